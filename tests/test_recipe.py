"""Recipes: loading, validation messages that name the dotted key, overrides, resolution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from proxyml.errors import RecipeError
from proxyml.modality import Modality
from proxyml.params import Params, validate_params
from proxyml.recipe import Component, Recipe, apply_overrides, load_recipe, recipe_from_dict
from proxyml.registry import MODALITIES, TASKS

RECIPES = sorted((Path(__file__).parents[1] / "recipes").glob("*.yaml"))


def recipe_dict(**sections: Any) -> dict[str, Any]:
    """A minimal valid recipe; keyword arguments replace whole sections."""
    data: dict[str, Any] = {
        "name": "demo",
        "data": {"source": "sktime:GunPoint"},
        "task": {"name": "timeseries.segment_order", "params": {"segments": 3}},
    }
    data.update(sections)
    return data


def recipe_error(**sections: Any) -> str:
    with pytest.raises(RecipeError) as info:
        recipe_from_dict(recipe_dict(**sections))
    return str(info.value)


def write(folder: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


# -- every shipped recipe --------------------------------------------------------------------
def test_recipes_folder_is_not_empty() -> None:
    assert any(p.name == "quickstart.yaml" for p in RECIPES)


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_recipe_loads_and_its_resolved_form_is_stable(path: Path) -> None:
    recipe = load_recipe(path)
    assert all(entry.name in TASKS for entry in recipe.task_entries)
    assert recipe.base_dir == path.parent.resolve()
    resolved = recipe.resolved()
    # a run saves the resolved recipe and `proxyml evaluate` loads it again
    assert recipe_from_dict(resolved).resolved() == resolved


# -- unknown keys ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"trainr": {}}, "trainr: unknown key; did you mean trainer?"),
        ({"trainer": {"max_epoch": 3}}, "trainer.max_epoch: unknown key; did you mean max_epochs?"),
        ({"labels": {"source": "l.csv", "postive": 1}}, "labels.postive: unknown key; did you mean positive?"),
        ({"data": {"source": "a.npz", "modalty": "timeseries"}}, "data.modalty: unknown key; did you mean modality?"),
        ({"evaluate": {"baselines": [{"name": "timeseries.minirocket", "parms": {}}]}},
         "evaluate.baselines.0.parms: unknown key; did you mean params?"),
        ({"task": {"name": "timeseries.segment_order", "params": {"segment": 4}}},
         "task.params.segment: unknown key; did you mean segments?"),
        ({"task": {"name": "timeseries.next_step", "params": {"horizn": 4}}},
         "task.params.horizn: unknown key; did you mean horizon?"),
        ({"data": {"source": "a.npz", "params": {"lenght": 20}}}, "data.params.lenght: unknown key; did you mean length?"),
        ({"encoder": {"name": "timeseries.conv1d", "params": {"embed_dims": 8}}},
         "encoder.params.embed_dims: unknown key; did you mean embed_dim?"),
        ({"evaluate": {"baselines": [{"name": "timeseries.minirocket", "params": {"num_kernel": 100}}]}},
         "evaluate.baselines.0.params.num_kernel: unknown key; did you mean num_kernels?"),
    ],
)
def test_unknown_key_names_the_dotted_path_and_suggests(sections: dict[str, Any], expected: str) -> None:
    assert recipe_error(**sections) == expected


def test_unknown_key_without_a_close_match_lists_the_known_keys() -> None:
    message = recipe_error(output={"zzz": 1})
    assert message == "output.zzz: unknown key; known keys: dir"


def test_every_problem_is_reported_one_per_line() -> None:
    lines = recipe_error(trainer={"max_epoch": 3, "batch_size": 0}).splitlines()
    assert sorted(lines) == [
        "trainer.batch_size: Input should be greater than or equal to 1 (got 0)",
        "trainer.max_epoch: unknown key; did you mean max_epochs?",
    ]


# -- wrong values ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"trainer": {"max_epochs": 0}}, "trainer.max_epochs: Input should be greater than or equal to 1 (got 0)"),
        ({"seed": "abc"}, "seed: Input should be a valid integer, unable to parse string as an integer (got 'abc')"),
        ({"evaluate": {"confidence": 0.3}}, "evaluate.confidence: Input should be greater than 0.5 (got 0.3)"),
        ({"trainer": 3}, "trainer: expected a section (a mapping of keys to values) (got 3)"),
        ({"name": "my recipe"},
         "name: use only letters, digits, '_', '.' and '-' (the name becomes the run folder) (got 'my recipe')"),
        ({"name": "../escape"},
         "name: use only letters, digits, '_', '.' and '-' (the name becomes the run folder) (got '../escape')"),
        ({"name": ".."},
         "name: use only letters, digits, '_', '.' and '-' (the name becomes the run folder) (got '..')"),
        ({"task": {"name": "timeseries.segment_order", "params": {"segments": 1}}},
         "task.params.segments: Input should be greater than or equal to 2 (got 1)"),
        ({"encoder": {"name": "timeseries.conv1d", "params": {"depth": "deep"}}},
         "encoder.params.depth: Input should be a valid integer, unable to parse string as an integer (got 'deep')"),
        ({"data": {"source": "a.npz", "params": {"normalize": "global"}}},
         "data.params.normalize: Input should be 'dataset', 'series' or 'none' (got 'global')"),
        ({"task": {"name": "timeseries.segment_order", "params": [3]}},
         "task.params: Input should be a valid dictionary (got [3])"),
    ],
)
def test_bad_value_names_the_key_and_the_value(sections: dict[str, Any], expected: str) -> None:
    assert recipe_error(**sections) == expected


def test_a_value_that_fits_no_member_of_a_union_is_one_line() -> None:
    assert recipe_error(evaluate={"label_budgets": [10, "al"]}) == (
        "evaluate.label_budgets.1: Input should be a valid integer or 'all' (got 'al')"
    )
    assert recipe_error(trainer={"devices": {"gpu": 1}}) == (
        "trainer.devices: Input should be a valid integer or a valid string or a valid list (got {'gpu': 1})"
    )


def test_a_cross_field_check_reads_without_pydantic_prefix() -> None:
    message = recipe_error(task={"name": "timeseries.segment_order", "params": {"segments": 3, "permutations": 7}})
    assert message.startswith("task.params: permutations=7 but 3 segments have only 6 orderings")
    assert "Value error" not in message


def test_missing_sections_are_named() -> None:
    with pytest.raises(RecipeError) as info:
        recipe_from_dict({"name": "x"})
    assert str(info.value).splitlines() == ["data: required key is missing",
                                            "task: required key is missing (or tasks: a list of tasks)"]


def test_validate_params_rejects_a_non_mapping() -> None:
    with pytest.raises(RecipeError, match=r"^encoder.params: expected a mapping of parameters, got \[1\]$"):
        validate_params(Params, [1], "encoder.params")  # type: ignore[arg-type]


# -- component names and modalities ----------------------------------------------------------
@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"task": {"name": "timeseries.segment_ordr"}},
         "task.name: unknown task 'timeseries.segment_ordr'; did you mean 'timeseries.segment_order'?"),
        ({"task": {"name": "segment_order"}},
         "task.name: unknown task 'segment_order'; did you mean 'audio.segment_order' or 'timeseries.segment_order'?"),
        ({"encoder": {"name": "timeseries.conv1"}},
         "encoder.name: unknown encoder 'timeseries.conv1'; did you mean 'timeseries.conv1d'?"),
        ({"evaluate": {"baselines": ["timeseries.minirocket", "timeseries.minirock"]}},
         "evaluate.baselines.1.name: unknown baseline 'timeseries.minirock'; did you mean 'timeseries.minirocket'?"),
        ({"data": {"source": "a.npz", "modality": "timeseris"}},
         "data.modality: unknown modality 'timeseris'; did you mean 'timeseries'?"),
    ],
)
def test_unknown_component_name_suggests_the_close_one(sections: dict[str, Any], expected: str) -> None:
    message = recipe_error(**sections)
    assert message.startswith(expected)
    assert "Known: " in message


def test_a_modality_that_does_not_exist_is_named() -> None:
    message = recipe_error(data={"source": "table.csv", "modality": "no_such_modality"})
    assert message.startswith("data.modality: unknown modality 'no_such_modality'. Known: ")
    assert "timeseries" in message


class _OtherModality(Modality):
    default_encoder = "timeseries.conv1d"

    def read(self, source, params, *, base_dir=None, preprocessing=None):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def test_a_task_of_another_modality_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "timeseries" in MODALITIES  # discovery done before the registry is patched
    monkeypatch.setitem(MODALITIES._items, "othermodality", _OtherModality)
    message = recipe_error(data={"source": "table.csv", "modality": "othermodality"},
                           task={"name": "timeseries.next_step"})
    assert message == (
        "task.name: 'timeseries.next_step' is a timeseries task but the data is othermodality; "
        "pick a othermodality.* task (see `proxyml tasks`)"
    )


# -- defaults and resolution -----------------------------------------------------------------
def test_defaults_come_from_the_modality() -> None:
    recipe = recipe_from_dict(recipe_dict())
    assert recipe.modality == "timeseries"
    assert recipe.encoder_name == "timeseries.conv1d"
    assert recipe.encoder_params == {}
    assert [b.name for b in recipe.baselines] == ["timeseries.minirocket"]
    assert recipe.trainer.max_epochs == 20 and recipe.trainer.batch_size == 32
    assert recipe.output_dir == Path("runs/demo")


def test_baselines_may_be_given_as_names_or_turned_off() -> None:
    named = recipe_from_dict(recipe_dict(evaluate={"baselines": ["timeseries.minirocket"]}))
    assert named.baselines == [Component(name="timeseries.minirocket", params={})]
    none = recipe_from_dict(recipe_dict(evaluate={"baselines": []}))
    assert none.baselines == [] and none.resolved()["evaluate"]["baselines"] == []


def test_resolved_fills_encoder_baselines_modality_and_reader_defaults() -> None:
    resolved = recipe_from_dict(recipe_dict()).resolved()
    assert resolved["encoder"] == {"name": "timeseries.conv1d", "params": {}}
    assert resolved["evaluate"]["baselines"] == [{"name": "timeseries.minirocket", "params": {}}]
    defaults = {"split": "all", "length": None, "length_policy": "pad", "normalize": "dataset", "id_column": "id",
                "time_column": "time", "value_columns": None, "format": None, "encoding": "utf-8", "delimiter": ","}
    assert resolved["data"] == {"source": "sktime:GunPoint", "modality": "timeseries", "params": defaults}
    assert resolved["task"] == {"name": "timeseries.segment_order", "params": {"segments": 3}}


def test_resolved_makes_relative_sources_absolute_against_the_recipe_folder(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    path = write(folder, "name: rel\ndata: {source: data/series.npz}\nlabels: {source: ../labels.csv}\n"
                         "task: {name: timeseries.next_step}\n")
    resolved = load_recipe(path).resolved()
    assert resolved["data"]["source"] == str(folder.resolve() / "data" / "series.npz")
    assert resolved["labels"]["source"] == str(tmp_path.resolve() / "labels.csv")


def test_resolved_leaves_schemes_and_absolute_paths_alone(tmp_path: Path) -> None:
    absolute = str(tmp_path / "elsewhere" / "series.npz")
    path = write(tmp_path, f"name: abs\ndata: {{source: '{absolute}'}}\nlabels: {{source: 'sktime:GunPoint'}}\n"
                           "task: {name: timeseries.next_step}\n")
    resolved = load_recipe(path).resolved()
    assert resolved["data"]["source"] == absolute
    assert resolved["labels"]["source"] == "sktime:GunPoint"


def test_resolved_expands_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    recipe = load_recipe(write(tmp_path, "name: h\ndata: {source: ~/series.npz}\ntask: {name: timeseries.next_step}\n"))
    assert recipe.resolved()["data"]["source"] == str(tmp_path / "home" / "series.npz")


def test_without_a_recipe_file_relative_sources_stay_relative() -> None:
    recipe = recipe_from_dict(recipe_dict(data={"source": "data/series.npz"}))
    assert recipe.base_dir is None
    assert recipe.resolved()["data"]["source"] == "data/series.npz"


# -- --set overrides -------------------------------------------------------------------------
def test_override_values_are_parsed_as_yaml() -> None:
    data = apply_overrides({"trainer": {"max_epochs": 20}}, [
        "trainer.max_epochs=3", "trainer.learning_rate=0.01", "trainer.progress_bar=false",
        "evaluate.label_budgets=[10, all]", "labels.positive='1'", "labels.target=churn", "data.modality=",
    ])
    assert data == {
        "trainer": {"max_epochs": 3, "learning_rate": 0.01, "progress_bar": False},
        "evaluate": {"label_budgets": [10, "all"]},
        "labels": {"positive": "1", "target": "churn"},
        "data": {"modality": None},
    }


def test_override_creates_nested_keys_and_leaves_the_input_alone() -> None:
    original = {"task": {"name": "timeseries.segment_order"}}
    data = apply_overrides(original, ["task.params.segments=4", "a.b.c=x=y"])
    assert data["task"] == {"name": "timeseries.segment_order", "params": {"segments": 4}}
    assert data["a"] == {"b": {"c": "x=y"}}
    assert original == {"task": {"name": "timeseries.segment_order"}}


def test_override_fills_a_section_left_empty_in_the_yaml() -> None:
    assert apply_overrides({"labels": None}, ["labels.source=l.csv"]) == {"labels": {"source": "l.csv"}}


@pytest.mark.parametrize("override", ["foo", "=3", "trainer..max_epochs=3", "trainer.=3"])
def test_override_without_a_key_and_value_is_rejected(override: str) -> None:
    with pytest.raises(RecipeError) as info:
        apply_overrides({}, [override])
    assert str(info.value) == f"--set {override!r}: expected key.sub=value, e.g. trainer.max_epochs=3"


def test_override_below_a_scalar_is_rejected() -> None:
    with pytest.raises(RecipeError) as info:
        apply_overrides({"trainer": {"max_epochs": 20}}, ["trainer.max_epochs.value=3"])
    assert str(info.value) == (
        "--set 'trainer.max_epochs.value=3': trainer.max_epochs is 20, not a section, so it has no key 'value'"
    )


def test_override_with_invalid_yaml_value_says_how_to_quote() -> None:
    with pytest.raises(RecipeError) as info:
        apply_overrides({}, ["labels.positive={yes"])
    message = str(info.value)
    assert message.startswith("--set 'labels.positive={yes': the value '{yes' is not valid YAML")
    assert message.endswith("""e.g. --set 'labels.positive="{yes"'""")


def test_load_recipe_applies_overrides_then_validates(tmp_path: Path) -> None:
    path = write(tmp_path, "name: o\ndata: {source: 'sktime:GunPoint'}\ntask: {name: timeseries.next_step}\n")
    recipe = load_recipe(path, ["trainer.max_epochs=2", "task.params.horizon=4", "trainer.learning_rate=3e-4"])
    assert recipe.trainer.max_epochs == 2 and recipe.task.params == {"horizon": 4}
    assert recipe.trainer.learning_rate == pytest.approx(3e-4)  # YAML 1.1 reads 3e-4 as text
    with pytest.raises(RecipeError) as info:
        load_recipe(path, ["trainer.max_epoch=2"])
    assert str(info.value) == f"{path}: trainer.max_epoch: unknown key; did you mean max_epochs?"


# -- files -----------------------------------------------------------------------------------
def test_invalid_yaml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\n  data: [\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert str(info.value).startswith(f"{path}: not valid YAML: ")
    assert "line 2" in str(info.value)


def test_a_list_at_the_top_level_is_refused_once(tmp_path: Path) -> None:
    path = write(tmp_path, "- name: x\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert str(info.value) == f"{path}: expected a mapping (key: value) at the top level, got list"


def test_an_empty_recipe_says_what_it_needs(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    with pytest.raises(RecipeError, match="the recipe is empty; it needs at least name, data and task"):
        load_recipe(path)


def test_a_binary_file_is_not_a_recipe(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(RecipeError, match="not a text file"):
        load_recipe(path)


def test_a_missing_recipe_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="recipe not found: .*nope.yaml"):
        load_recipe(tmp_path / "nope.yaml")
    with pytest.raises(FileNotFoundError, match="recipe not found"):
        load_recipe(tmp_path)


def test_recipe_from_dict_refuses_a_non_mapping() -> None:
    with pytest.raises(RecipeError, match=r"^recipe: expected a mapping at the top level, got list$"):
        recipe_from_dict([1, 2])  # type: ignore[arg-type]


def test_a_saved_resolved_recipe_round_trips_through_yaml(tmp_path: Path) -> None:
    recipe = recipe_from_dict(recipe_dict(trainer={"max_epochs": 5}))
    path = write(tmp_path, yaml.safe_dump(recipe.resolved()))
    again = load_recipe(path)
    assert isinstance(again, Recipe)
    assert again.resolved() == recipe.resolved()


def test_labels_in_the_data_file_use_the_data_id_column() -> None:
    base = {"name": "t", "task": {"name": "tabular.imputation"},
            "data": {"source": "c.csv", "params": {"id_column": "customer"}}}
    same = recipe_from_dict({**base, "labels": {"source": "c.csv", "target": "churn"}})
    assert same.labels.id_column == "customer"
    other = recipe_from_dict({**base, "labels": {"source": "l.csv", "target": "churn"}})
    assert other.labels.id_column == "id"
    explicit = recipe_from_dict({**base, "labels": {"source": "c.csv", "target": "churn", "id_column": "k"}})
    assert explicit.labels.id_column == "k"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("seed", -1, "seed: Input should be greater than or equal to 0"),
    ("output", {"dir": "runs/{date}"}, "only placeholder allowed is {name}"),
])
def test_recipe_values_that_used_to_crash_later(key: str, value: object, message: str) -> None:
    recipe = {"name": "t", "data": {"source": "sktime:GunPoint"}, "task": {"name": "timeseries.next_step"}}
    with pytest.raises(RecipeError, match=message.replace("{", "\\{").replace("}", "\\}")):
        recipe_from_dict({**recipe, key: value})


def test_default_encoder_params_with_a_scalar_data_section_is_a_clear_error() -> None:
    with pytest.raises(RecipeError, match="data"):
        recipe_from_dict({"name": "t", "data": "a.csv", "task": {"name": "timeseries.next_step"},
                          "encoder": {"params": {"embed_dim": 8}}})


def test_encoder_of_another_modality_is_refused_when_the_recipe_loads(tiny_recipe) -> None:
    with pytest.raises(RecipeError, match="encoder.name: 'tabular.mlp' encodes tabular data but the data is timeseries"):
        tiny_recipe("encoder={name: tabular.mlp}")


def test_set_reaches_into_a_tasks_list_by_position() -> None:
    data = apply_overrides({"tasks": [{"name": "a"}, {"name": "b", "params": {}}]},
                           ["tasks.1.params.segments=4", "tasks.0.key=first"])
    assert data["tasks"] == [{"name": "a", "key": "first"}, {"name": "b", "params": {"segments": 4}}]
    with pytest.raises(RecipeError, match=r"tasks is a list of 2; use a position from 0 to 1 \(e.g. tasks.0\), not '5'"):
        apply_overrides({"tasks": [{}, {}]}, ["tasks.5.key=x"])


def test_a_check_of_the_whole_recipe_reads_as_one_plain_line() -> None:
    with pytest.raises(RecipeError) as info:
        recipe_from_dict({"name": "x", "data": {"source": "sktime:GunPoint"}, "task": {"name": "timeseries.next_step"},
                          "tasks": [{"name": "timeseries.next_step"}]})
    assert str(info.value).startswith("give either task: (one pretext task) or tasks: (a list), not both")
    assert "(got" not in str(info.value)
