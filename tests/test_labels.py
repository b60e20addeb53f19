"""Labels: read a sparse table, binarise the target and join it to sample ids in data order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from proxyml import pipeline
from proxyml.data import ArraySampleSet, SampleSet
from proxyml.errors import LabelError
from proxyml.labels import binarize, load_labels, read_label_table
from proxyml.modalities.timeseries import TimeSeriesModality
from proxyml.recipe import LabelsSection, recipe_from_dict

IDS = [f"s{i:02d}" for i in range(8)]


@pytest.fixture(scope="module")
def modality() -> TimeSeriesModality:
    return TimeSeriesModality()


@pytest.fixture
def dataset() -> SampleSet:
    return ArraySampleSet(np.zeros((len(IDS), 1, 20), np.float32), IDS, spec={"channels": 1, "length": 20}, source="test")


@pytest.fixture
def labels_from(tmp_path: Path, dataset: SampleSet, modality: TimeSeriesModality):
    """``labels_from(rows, **section)``: write ``rows`` (id, y) to a CSV and join it to ``dataset``."""

    def load(rows: list[tuple[Any, ...]] | pd.DataFrame, columns: tuple[str, ...] = ("id", "y"), **section: Any):
        table = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=list(columns))
        table.to_csv(tmp_path / "labels.csv", index=False)
        labels = LabelsSection(source="labels.csv", **{"target": "y", **section})
        return load_labels(labels, dataset, modality, modality.reader_params({}), base_dir=tmp_path)

    return load


def test_labels_are_joined_in_data_order(labels_from) -> None:
    labels = labels_from([("s05", 1), ("s01", 0), ("s03", 1), ("s02", 0)])
    assert labels.ids == ["s01", "s02", "s03", "s05"]
    assert labels.y.tolist() == [0, 0, 1, 1]
    assert labels.y.dtype == np.int64
    assert labels.positive == "1" and labels.target == "y"
    assert labels.unmatched == [] and labels.notes == []


def test_a_few_labels_for_many_samples_are_fine(labels_from) -> None:
    labels = labels_from([("s07", "1"), ("s00", "0")])
    assert labels.ids == ["s00", "s07"] and labels.y.tolist() == [0, 1]
    assert labels.summary()["n_labelled"] == 2 and labels.summary()["n_positive"] == 1


def test_unmatched_ids_are_counted_and_listed(labels_from) -> None:
    labels = labels_from([("s01", 0), ("ghost-1", 1), ("s02", 1), ("ghost-2", 0)])
    assert labels.ids == ["s01", "s02"]
    assert labels.unmatched == ["ghost-1", "ghost-2"]
    assert labels.notes == ["2 of 4 label ids match no sample and were not used, e.g. ['ghost-1', 'ghost-2']"]
    assert labels.summary()["n_unmatched"] == 2


def test_no_matching_id_shows_examples_of_both_sides(labels_from) -> None:
    with pytest.raises(LabelError) as info:
        labels_from([("a1", 0), ("a2", 1), ("a3", 1), ("a4", 0)])
    message = str(info.value)
    assert "none of the 4 label ids match a sample id" in message
    assert "label ids look like ['a1', 'a2', 'a3']" in message
    assert "sample ids look like ['s00', 's01', 's02']" in message
    assert "labels.id_column" in message


@pytest.mark.parametrize("positive", [1, "1", 1.0, True])
def test_positive_matches_the_column_whatever_its_yaml_type(labels_from, positive: Any) -> None:
    labels = labels_from([("s01", "1"), ("s02", "0"), ("s03", "1")], positive=positive)
    assert labels.y.tolist() == [1, 0, 1]
    assert labels.positive == "1"


def test_integer_positive_matches_a_float_column(labels_from) -> None:
    labels = labels_from([("s01", 1.0), ("s02", 0.0), ("s03", 2.0)], positive=2)
    assert labels.y.tolist() == [0, 0, 1]
    assert labels.positive == "2.0"


def test_zero_one_column_counts_one_as_positive_without_a_note(labels_from) -> None:
    labels = labels_from([("s01", 0), ("s02", 1), ("s03", 0)])
    assert labels.y.tolist() == [0, 1, 0] and labels.positive == "1" and labels.notes == []


def test_zero_one_column_written_as_floats_is_still_zero_one(labels_from) -> None:
    labels = labels_from([("s01", "0.0"), ("s02", "1.0")])
    assert labels.y.tolist() == [0, 1] and labels.positive == "1.0" and labels.notes == []


def test_true_false_column_counts_true_as_positive(labels_from) -> None:
    labels = labels_from([("s01", "true"), ("s02", "false")])
    assert labels.y.tolist() == [1, 0] and labels.positive == "true" and labels.notes == []


def test_two_text_values_pick_the_sorted_last_with_a_note(labels_from) -> None:
    labels = labels_from([("s01", "square"), ("s02", "sine"), ("s03", "square")])
    assert labels.positive == "square"  # "sine" < "square"
    assert labels.y.tolist() == [1, 0, 1]
    assert labels.notes == [
        "labels.positive is not set: counting 'square' as the positive class "
        "(values: 'sine', 'square'); set labels.positive to choose"
    ]


def test_explicit_positive_overrides_the_default(labels_from) -> None:
    labels = labels_from([("s01", "square"), ("s02", "sine")], positive="sine")
    assert labels.y.tolist() == [0, 1] and labels.notes == []


def test_three_values_without_positive_ask_for_it(labels_from) -> None:
    with pytest.raises(LabelError) as info:
        labels_from([("s01", "a"), ("s02", "b"), ("s03", "c")])
    assert str(info.value) == (
        "labels.positive: target 'y' has 3 values ('a', 'b', 'c'); "
        "set labels.positive to the value that counts as the positive class"
    )


def test_a_positive_value_not_present_is_refused(labels_from) -> None:
    with pytest.raises(LabelError) as info:
        labels_from([("s01", "cat"), ("s02", "dog")], positive="bird")
    assert str(info.value) == (
        "labels.positive: 'bird' does not occur in column 'y' of the labelled samples; values are 'cat', 'dog'"
    )


def test_a_single_text_value_says_two_classes_are_needed(labels_from) -> None:
    with pytest.raises(LabelError, match="every labelled sample has 'y' = 'cat'; the labels need two classes"):
        labels_from([("s01", "cat"), ("s02", "cat")])


def test_rows_without_a_target_are_dropped_with_a_note(labels_from) -> None:
    labels = labels_from([("s01", 1), ("s02", None), ("s03", 0), ("s04", None)])
    assert labels.ids == ["s01", "s03"] and labels.y.tolist() == [1, 0]
    assert labels.notes == ["2 label rows have no 'y' value and were not used"]


def test_rows_without_an_id_are_dropped_with_a_note(labels_from) -> None:
    labels = labels_from([("s01", 1), (None, 0), ("s03", 0)])
    assert labels.ids == ["s01", "s03"] and labels.unmatched == []
    assert labels.notes == ["1 label rows have no id and were not used"]


def test_no_usable_row_at_all_is_an_error(labels_from) -> None:
    with pytest.raises(LabelError, match=r"no label row has both an id and a 'y' value"):
        labels_from([("s01", None), ("s02", None)])


def test_duplicate_ids_with_the_same_label_are_used_once(labels_from) -> None:
    labels = labels_from([("s01", 1), ("s02", 0), ("s01", 1), ("s02", 0), ("s03", 1)])
    assert labels.ids == ["s01", "s02", "s03"] and labels.y.tolist() == [1, 0, 1]
    assert labels.notes == ["2 ids were listed more than once with the same label; each is used once"]


def test_duplicate_ids_with_conflicting_labels_are_refused(labels_from) -> None:
    with pytest.raises(LabelError) as info:
        labels_from([("s01", "cat"), ("s01", "dog"), ("s02", "cat")])
    assert "1 ids are listed more than once with different labels (e.g. 's01': 'cat', 'dog')" in str(info.value)


@pytest.mark.parametrize(("section", "key", "column"), [({"id_column": "sample"}, "labels.id_column", "sample"),
                                                         ({"target": "kind"}, "labels.target", "kind")])
def test_a_missing_column_names_the_available_ones(labels_from, section, key, column) -> None:
    with pytest.raises(LabelError) as info:
        labels_from([("s01", 1)], **section)
    assert str(info.value) == f"{key}: labels (labels.csv) has no column {column!r}; columns are ['id', 'y']"


def test_other_column_names_work(labels_from) -> None:
    labels = labels_from([("s02", "churned", 7), ("s01", "stayed", 8)], columns=("customer", "status", "other"),
                         id_column="customer", target="status", positive="churned")
    assert labels.ids == ["s01", "s02"] and labels.y.tolist() == [0, 1] and labels.target == "status"


def test_numeric_ids_match_string_sample_ids(tmp_path: Path, modality: TimeSeriesModality) -> None:
    data = ArraySampleSet(np.zeros((3, 1, 20), np.float32), ["0", "1", "2"], spec={}, source="test")
    pd.DataFrame({"id": [2, 0], "y": [1, 0]}).to_parquet(tmp_path / "labels.parquet")
    labels = load_labels(LabelsSection(source=str(tmp_path / "labels.parquet"), target="y"), data, modality,
                         modality.reader_params({}))
    assert labels.ids == ["0", "2"] and labels.y.tolist() == [0, 1]


def test_any_object_with_the_section_attributes_works(tmp_path: Path, dataset: SampleSet, modality) -> None:
    class Section:
        source, target, positive, id_column = str(tmp_path / "l.csv"), "y", "yes", "id"

    pd.DataFrame({"id": ["s01", "s02"], "y": ["yes", "no"]}).to_csv(tmp_path / "l.csv", index=False)
    labels = load_labels(Section(), dataset, modality, modality.reader_params({}))
    assert labels.y.tolist() == [1, 0]


# -- reading the table -----------------------------------------------------------------------
def test_missing_label_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"labels.source: file not found: .*nope.csv"):
        read_label_table("nope.csv", tmp_path)


def test_label_file_of_another_type_is_refused(tmp_path: Path) -> None:
    (tmp_path / "labels.xlsx").write_text("x")
    with pytest.raises(LabelError, match=r"labels.xlsx: expected a .csv, .txt or .parquet file"):
        read_label_table("labels.xlsx", tmp_path)


def test_empty_and_corrupt_label_files_are_label_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(LabelError, match="empty.csv is empty"):
        read_label_table("empty.csv", tmp_path)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(LabelError, match="labels.source: cannot read .*broken.parquet"):
        read_label_table("broken.parquet", tmp_path)


def test_csv_values_are_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text("id,y\n007,1\n010,0\n")
    table = read_label_table("l.csv", tmp_path)
    assert table["id"].tolist() == ["007", "010"]  # leading zeros of ids survive


def test_binarize_returns_the_positive_key() -> None:
    y, positive, notes = binarize(pd.Series(["b", "a", "b"]), "b", "t")
    assert y.tolist() == [1, 0, 1] and positive == "b" and notes == []


def test_binarize_counts_every_spelling_of_one_value() -> None:
    y, positive, _ = binarize(pd.Series(["1", "0", "1.0", "0.0"]), None, "t")
    assert y.tolist() == [1, 0, 1, 0] and positive == "1"
    y, _, _ = binarize(pd.Series(["True", "true", "FALSE"]), None, "t")
    assert y.tolist() == [1, 1, 0]


def test_binarize_leaves_an_all_negative_zero_one_column_to_the_evaluation() -> None:
    y, positive, _ = binarize(pd.Series(["0", "0"]), None, "t")
    assert y.tolist() == [0, 0] and positive == "1"


# -- a bundled data set: labels from the modality --------------------------------------------
@pytest.fixture(scope="module")
def gunpoint(modality: TimeSeriesModality) -> SampleSet:
    return modality.read("sktime:GunPoint", modality.reader_params({}))


def test_sktime_labels_match_the_series_ids(gunpoint: SampleSet, modality: TimeSeriesModality) -> None:
    params = modality.reader_params({})
    table = modality.read_label_source("sktime:GunPoint", params)
    assert sorted(table["class"].unique()) == ["1", "2"]
    labels = load_labels(LabelsSection(source="sktime:GunPoint", positive="2"), gunpoint, modality, params)
    assert len(labels.ids) == 200 and labels.ids == gunpoint.ids
    assert labels.unmatched == [] and labels.notes == []
    assert labels.positive == "2" and int(labels.y.sum()) == int((table["class"] == "2").sum())
    assert 0 < labels.y.sum() < 200


def test_a_csv_source_is_not_read_by_the_modality(modality: TimeSeriesModality) -> None:
    assert modality.read_label_source("labels.csv", modality.reader_params({})) is None


def test_malformed_label_lines_are_left_out_and_named(tmp_path) -> None:
    from proxyml.recipe import LabelsSection

    (tmp_path / "l.csv").write_text("id,kind\nr0,a\nr1,b,extra\nr2,b\nr3,a\n")
    dataset = ArraySampleSet(np.zeros((4, 1, 20), np.float32), [f"r{i}" for i in range(4)],
                             spec={"channels": 1, "length": 20}, source="test")
    labels = load_labels(LabelsSection(source=str(tmp_path / "l.csv"), target="kind", positive="b"), dataset)
    assert labels.ids == ["r0", "r2", "r3"] and labels.y.tolist() == [0, 1, 0]
    assert any("1 malformed lines of l.csv" in note and "line 3" in note for note in labels.notes)


def test_a_positive_spelled_in_other_cases_counts_them_with_a_note(labels_from) -> None:
    rows = [("s00", "yes"), ("s01", "YES"), ("s02", "no"), ("s03", "NO"), ("s04", " Yes"), ("s05", "no")]
    labels = labels_from(rows, positive="yes")
    assert labels.y.tolist() == [1, 1, 0, 0, 1, 0]
    assert labels.notes == ["labels.positive 'yes' also matched ' Yes', 'YES' (case and surrounding spaces ignored): "
                            "'yes' (1), 'YES' (1), ' Yes' (1) counted positive; 'no' (2), 'NO' (1) counted negative"]


def test_a_column_with_more_than_two_values_says_how_each_was_counted(labels_from) -> None:
    labels = labels_from([("s00", "churned"), ("s01", "active"), ("s02", "paused"), ("s03", "active")],
                         positive="churned")
    assert labels.y.tolist() == [1, 0, 0, 0]
    assert labels.notes == ["column 'y' has 3 values: 'churned' (1) counted positive; 'active' (2), 'paused' (1) "
                            "counted negative"]


def test_an_unquoted_yes_is_read_as_a_boolean_and_said_so(labels_from) -> None:
    labels = labels_from([("s00", "yes"), ("s01", "no"), ("s02", "yes")], positive=True)  # `positive: yes`
    assert labels.y.tolist() == [1, 0, 1]
    assert labels.notes[0].startswith("labels.positive was read as the YAML boolean True (YAML reads an unquoted "
                                      "yes as True); counting 'yes' as positive. Quote it")


def test_a_yaml_boolean_that_matches_nothing_says_to_quote_the_value(labels_from) -> None:
    with pytest.raises(LabelError, match=r"labels.positive: True was read as a YAML boolean .* "
                                         r"values are 'churned', 'stayed'. Quote the value"):
        labels_from([("s00", "churned"), ("s01", "stayed")], positive=True)


def test_a_semicolon_separated_labels_file_names_the_delimiter(tmp_path, dataset) -> None:
    (tmp_path / "l.csv").write_text("id;y\ns00;1\ns01;0\n")
    with pytest.raises(Exception, match=r"l.csv: read as a single column 'id;y' .*\(set labels.delimiter: ';'\)"):
        load_labels(LabelsSection(source="l.csv", target="y"), dataset, base_dir=tmp_path)
    labels = load_labels(LabelsSection(source="l.csv", target="y", delimiter=";"), dataset, base_dir=tmp_path)
    assert labels.y.tolist() == [1, 0]


def test_a_latin1_labels_file_names_the_line_and_the_encoding_option(tmp_path, dataset) -> None:
    (tmp_path / "l.csv").write_bytes("id,y\ns00,oui\ns01,non\ns02,f\xe9e\n".encode("latin-1"))
    with pytest.raises(Exception, match=r"line 4 .*set labels.encoding: latin-1"):
        load_labels(LabelsSection(source="l.csv", target="y", positive="oui"), dataset, base_dir=tmp_path)
    labels = load_labels(LabelsSection(source="l.csv", target="y", positive="oui", encoding="latin-1"), dataset,
                         base_dir=tmp_path)
    assert labels.y.tolist() == [1, 0, 0]


def test_a_folder_as_labels_source_is_named_as_a_folder(tmp_path, dataset) -> None:
    with pytest.raises(LabelError, match="is a folder; give the labels file in it"):
        load_labels(LabelsSection(source=str(tmp_path), target="y"), dataset)


def test_a_separate_labels_file_without_ids_is_not_joined_by_row_number(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.standard_normal((30, 3)), columns=list("abc")).to_csv(tmp_path / "data.csv", index=False)
    pd.DataFrame({"churn": [0, 1] * 3}).to_csv(tmp_path / "labels.csv", index=False)
    recipe = recipe_from_dict({
        "name": "t", "data": {"source": str(tmp_path / "data.csv")},
        "labels": {"source": str(tmp_path / "labels.csv"), "target": "churn"},
        "task": {"name": "tabular.imputation"}, "output": {"dir": str(tmp_path / "run")},
    })
    with pytest.raises(LabelError, match="labels.id_column: .* has no column 'id'"):
        pipeline.prepare(recipe)


def test_float_ids_in_parquet_join_their_labels(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0],
                          "x": np.arange(8.0), "y": [1.0, 3, 2, 5, 4, 7, 6, 9], "churn": [0, 1] * 4})
    frame.to_parquet(tmp_path / "t.parquet")
    recipe = recipe_from_dict({
        "name": "t", "data": {"source": str(tmp_path / "t.parquet")},
        "labels": {"source": str(tmp_path / "t.parquet"), "target": "churn", "positive": 1},
        "task": {"name": "tabular.imputation"}, "evaluate": {"label_budgets": [2]},
        "output": {"dir": str(tmp_path / "run")},
    })
    prepared = pipeline.prepare(recipe)
    assert prepared.labels is not None and prepared.labels.ids[:2] == ["1", "2"]


def test_numeric_labels_pick_the_larger_number_as_positive() -> None:
    from proxyml.labels import binarize

    y, positive, notes = binarize(pd.Series(["9", "10", "9", "10"]), None, "grade")
    assert positive == "10" and y.tolist() == [0, 1, 0, 1] and "'10'" in notes[0]


def test_single_class_labels_name_the_values(tiny_recipe, tmp_path) -> None:
    pd.DataFrame({"id": ["s001", "s003", "s005"], "kind": ["square"] * 3}).to_csv(tmp_path / "one.csv", index=False)
    with pytest.raises(LabelError, match=r"all 3 labelled samples found in the data are positive.*'square'.*"
                                         r"label at least 2 negative samples"):
        pipeline.prepare(tiny_recipe(f"labels.source={tmp_path / 'one.csv'}"))
