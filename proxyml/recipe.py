"""Recipes: one YAML file that says what to read, which pretext task to train, how, and how
to evaluate it against the few real labels.

Every component is a registry ``name`` plus ``params``; no import paths and no code in YAML.
Unknown keys are errors that name the dotted path, and so are bad component parameters: a
recipe fails when it is loaded, not after an hour of training.

Example:
    >>> recipe = recipe_from_dict({
    ...     "name": "demo", "data": {"source": "sktime:GunPoint"},
    ...     "task": {"name": "timeseries.segment_order", "params": {"segments": 3}},
    ... })
    >>> recipe.modality, recipe.encoder_name
    ('timeseries', 'timeseries.conv1d')
    >>> recipe_from_dict({"name": "x", "data": {"source": "a.csv"},
    ...                   "task": {"name": "timeseries.next_step"}, "trainer": {"max_epoch": 3}})
    Traceback (most recent call last):
    ...
    proxyml.errors.RecipeError: trainer.max_epoch: unknown key; did you mean max_epochs?
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from proxyml.csvfile import delimiter_option, encoding_option
from proxyml.errors import RecipeError
from proxyml.params import format_validation_error, validate_params
from proxyml.registry import BASELINES, DEMOS, ENCODERS, MODALITIES, TASKS
from proxyml.sources import resolve_path, scheme_of


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Component(Section):
    """A registered component: its registry ``name`` and its ``params``."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class TaskEntry(Component):
    """One pretext task of a recipe: ``name`` and ``params``, and for a ``tasks:`` list its
    ``key`` (names its outputs; default: the name after the modality) and ``weight`` (its share
    of the loss when ``tasks_training: shared``)."""

    key: str | None = Field(None, description="default: the task's name after the modality, e.g. blur_rank")
    weight: float = Field(1.0, gt=0, description="tasks_training: shared: this task's weight in the summed loss")

    @field_validator("key")
    @classmethod
    def _key_is_a_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError("use only letters, digits, '_' and '-' (the key names files and columns)")
        return value

    @property
    def resolved_key(self) -> str:
        return self.key or self.name.split(".", 1)[-1]


class DataSection(Section):
    source: str = Field(description="a file path (relative to the recipe) or e.g. sktime:GunPoint")
    modality: str | None = Field(None, description="default: the task's modality")
    params: dict[str, Any] = Field(default_factory=dict)
    demo: str | None = Field(None, description="a bundled synthetic data set (e.g. call-center) written to "
                             "data.source when it and the labels are missing; remove it for your own data")


class LabelsSection(Section):
    source: str = Field(description="a CSV/Parquet file with an id column, or e.g. sktime:GunPoint")
    target: str = "class"
    positive: str | int | float | bool | None = None
    id_column: str = "id"
    delimiter: str = Field(",", description="what separates a CSV's cells: ',', ';', '|' or a tab ('tab')")
    encoding: str = Field("utf-8", description="a CSV's text encoding, e.g. utf-8, latin-1, cp1252")

    _delimiter = field_validator("delimiter")(lambda cls, value: delimiter_option(value))
    _encoding = field_validator("encoding")(lambda cls, value: encoding_option(value))


class TrainerSection(Section):
    max_epochs: int = Field(20, ge=1)
    batch_size: int = Field(32, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    val_fraction: float = Field(0.1, ge=0, lt=1, description="held-out unlabeled slice for early stopping")
    early_stopping_patience: int | None = Field(5, ge=1)
    accelerator: str = "auto"
    devices: int | str | list[int] = "auto"
    strategy: str = "auto"
    num_nodes: int = Field(1, ge=1)
    precision: str | int = "32-true"
    num_workers: Annotated[int, Field(ge=0)] | Literal["auto"] = Field(
        "auto", description="DataLoader worker processes; auto: none for in-memory data, one per spare core "
        "(at most 4) for data decoded from files")
    bucket_by_length: bool | Literal["auto"] = Field(
        "auto", description="batch variable-length samples of similar length together (less padding); auto: "
        "when the data knows its samples' lengths and one process trains")
    predict_batch_size: int | None = Field(None, ge=1, description="batch size for embedding and scoring "
                                           "(default: 4 x batch_size; batch_size for file-backed data of varying length)")
    deterministic: bool | None = Field(None, description="default: True on CPU, False on GPUs")
    gradient_clip_val: float | None = None
    log_every_n_steps: int = Field(10, ge=1)
    progress_bar: bool = True
    threads: int | Literal["auto"] = Field(
        "auto", description="torch (and BLAS) threads while training and predicting; auto: 1 when DataLoader "
        "workers are used or the machine has at most 4 usable cores, else min(4, cores // 2)")
    optimizer: Literal["adamw", "adam", "sgd"] = Field("adamw", description="sgd: with momentum 0.9")
    schedule: Literal["constant", "cosine"] = Field(
        "constant", description="learning rate per step: constant, or cosine decay to 0 at max_epochs")
    warmup_epochs: int = Field(0, ge=0, description="linear learning-rate warm-up from 0 over these first epochs")
    lightning: dict[str, Any] = Field(
        default_factory=dict, description="any other lightning.pytorch.Trainer argument, e.g. "
        "{accumulate_grad_batches: 2}")

    @field_validator("threads")
    @classmethod
    def _threads_positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("use a number of threads >= 1, or auto")
        return value

    @field_validator("lightning")
    @classmethod
    def _lightning_arguments(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value:  # Lightning's signature costs its import (seconds): only when there is something to check
            from proxyml.trainer import lightning_argument_problem

            problem = lightning_argument_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("warmup_epochs")
    @classmethod
    def _warmup_within_training(cls, value: int, info: Any) -> int:  # info: pydantic.ValidationInfo
        max_epochs = info.data.get("max_epochs")
        if value and isinstance(max_epochs, int) and value >= max_epochs:
            raise ValueError(f"must be less than max_epochs ({max_epochs}): the warm-up would be all of training")
        return value


class FinetuneSection(Section):
    """Training on each draw's labels (``evaluate.finetune`` / ``evaluate.multitask``)."""

    repeats: int = Field(5, ge=1, description="the first N label draws of each budget (each trains a model)")
    max_epochs: int = Field(30, ge=1)
    batch_size: int = Field(16, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)


class MultitaskSection(FinetuneSection):
    pretext_weight: float = Field(1.0, gt=0, description="weight of the pretext loss beside the supervised loss")


class EvaluateSection(Section):
    label_budgets: list[int | Literal["all"]] | None = Field(
        None, description="default: 10, 20, 50, all (those the labels allow)"
    )
    repeats: int = Field(20, ge=1)
    seeds: int = Field(1, ge=1, description="train the proxy this many times (seed, seed+1, ...) and let the "
                       "probes' intervals include the variance from the pretraining seed")
    baselines: list[Component] | None = Field(None, description="default: the modality's baselines")
    random_init: bool = True
    bootstrap: int = Field(1000, ge=100)
    permutations: int = Field(1000, ge=100)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    probe_C: float = Field(1.0, gt=0)
    finetune: FinetuneSection | None = Field(None, description="fine-tune the pretrained encoder on each draw's "
                                             "labels, beside the same encoder trained from scratch; {} for defaults")
    multitask: MultitaskSection | None = Field(None, description="train pretext + supervised loss jointly on each "
                                               "draw; {} for defaults")
    examples: int = Field(3, ge=0, le=20, description="the report shows this many of the highest- and of the "
                          "lowest-scored samples per proxy (audio players, filmstrips) where the modality can")
    stacked: bool = Field(True, description="also probe the proxy's embeddings stacked on each baseline's features "
                          "(method proxyml+<baseline>)")

    @field_validator("baselines", mode="before")
    @classmethod
    def _names_are_components(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class OutputSection(Section):
    dir: str = Field("runs/{name}", description="relative to the working directory; {name} is the recipe name")

    @field_validator("dir")
    @classmethod
    def _only_name_placeholder(cls, value: str) -> str:
        try:
            value.format(name="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError("the only placeholder allowed is {name}; write a literal brace as {{ or }}") from None
        return value


class Recipe(Section):
    name: str = Field(description="letters, digits, '_', '.' and '-'; it names the run folder")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    data: DataSection
    labels: LabelsSection | None = None
    task: TaskEntry | None = Field(None, description="one pretext task (or `tasks:`, a list)")
    tasks: list[TaskEntry] | None = Field(None, description="several pretext tasks, each reported alone and combined")
    tasks_training: Literal["separate", "shared"] = Field(
        "separate", description="separate: one encoder per task; shared: one encoder, one head per task, "
        "the weighted sum of their losses (multitask pretext training)")
    encoder: Component | None = None
    trainer: TrainerSection = Field(default_factory=TrainerSection)
    evaluate: EvaluateSection = Field(default_factory=EvaluateSection)
    output: OutputSection = Field(default_factory=OutputSection)

    _base_dir: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _labels_in_the_data_file_share_its_ids(self) -> Recipe:
        """Labels kept in the data file use the data's id column unless told otherwise."""
        labels, data_id = self.labels, self.data.params.get("id_column")
        if (labels is not None and "id_column" not in labels.model_fields_set and data_id
                and labels.source == self.data.source):
            labels.id_column = data_id
        return self

    @model_validator(mode="after")
    def _one_form_of_tasks(self) -> Recipe:
        if (self.task is None) == (self.tasks is None):
            raise ValueError("give either task: (one pretext task) or tasks: (a list), not both (on the command line, "
                             "--set tasks=null replaces a recipe's list by --set task.name=...)"
                             if self.task is not None else "a recipe needs a pretext task: task: {name: ...} "
                             "or tasks: [{name: ...}, ...] (see `proxyml tasks`)")
        if self.tasks is not None:
            if not self.tasks:
                raise ValueError("tasks: the list is empty; name at least one task")
            keys = [t.resolved_key for t in self.tasks]
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            if repeated:
                raise ValueError(f"tasks: two tasks have the key {repeated[0]!r}; give each a key (tasks.N.key)")
        return self

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", value) or set(value) == {"."}:
            raise ValueError("use only letters, digits, '_', '.' and '-' (the name becomes the run folder)")
        return value

    @property
    def base_dir(self) -> Path | None:
        """The folder of the recipe file: relative data and label paths resolve against it."""
        return self._base_dir

    @property
    def task_entries(self) -> list[TaskEntry]:
        """The recipe's pretext tasks, ``task:`` being the one-item form of ``tasks:``."""
        return list(self.tasks) if self.tasks is not None else [self.task]  # type: ignore[list-item]

    @property
    def multi_task(self) -> bool:
        return len(self.task_entries) > 1

    def task_path(self, i: int) -> str:
        """The recipe key of task ``i`` in messages: ``task`` or ``tasks.<i>``."""
        return "task" if self.tasks is None else f"tasks.{i}"

    @property
    def modality(self) -> str:
        return self.data.modality or self.task_entries[0].name.split(".", 1)[0]

    @property
    def encoder_name(self) -> str:
        return self.encoder.name if self.encoder else MODALITIES.get(self.modality).default_encoder

    @property
    def encoder_params(self) -> dict[str, Any]:
        return dict(self.encoder.params) if self.encoder else {}

    @property
    def baselines(self) -> list[Component]:
        if self.evaluate.baselines is not None:
            return self.evaluate.baselines
        return [Component(name=n) for n in MODALITIES.get(self.modality).default_baselines]

    @property
    def output_dir(self) -> Path:
        return Path(self.output.dir.format(name=self.name))

    def resolved(self) -> dict[str, Any]:
        """The recipe with every default filled in, as saved with each run."""
        data = self.model_dump(mode="json")
        data["encoder"] = {"name": self.encoder_name, "params": self.encoder_params}
        data["evaluate"]["baselines"] = [b.model_dump(mode="json") for b in self.baselines]
        data["data"]["modality"] = self.modality
        del data["data"]["demo"]  # where the data came from once, not what the run trains on
        for section, entries in (("task", [self.task] if self.task else None), ("tasks", self.tasks)):
            if entries is not None:  # key and weight only where given: the one-task form stays as it was
                dumped = [{"name": t.name, "params": t.params,
                           **t.model_dump(mode="json", include={"key", "weight"}, exclude_defaults=True)}
                          for t in entries]
                data[section] = dumped[0] if section == "task" else dumped
        data["data"]["source"] = self.resolve_source(self.data.source)
        data["data"]["params"] = self.filled_reader_params(self.data.params)
        for key in MODALITIES.get(self.modality).path_params:  # e.g. a folder's metadata table
            value = data["data"]["params"].get(key)
            if isinstance(value, str) and value:
                data["data"]["params"][key] = self.resolve_source(value)
        if self.labels is not None:
            data["labels"]["source"] = self.resolve_source(self.labels.source)
        return data

    def filled_reader_params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """``data.params`` with the reader's defaults filled in (what the run read its data with),
        so that embedding new data later reads it the same way whatever a newer default says."""
        return MODALITIES.get(self.modality)().reader_params(params).model_dump(mode="json")

    def resolve_source(self, source: str) -> str:
        """``source`` as an absolute path when it is a relative file path (schemes stay)."""
        if scheme_of(source):
            return source
        return str(resolve_path(source, self._base_dir, resolve=True))

    def validate_components(self) -> None:
        """Check every registry name and every component's parameters, and that the data, the
        encoder and the tasks can work together (what each declares it takes)."""
        entries = self.task_entries
        if self.data.modality is None:
            # the modality comes from the task's name: a typo there is a task typo
            _check_component(entries[0], TASKS, self.task_path(0))
        if self.modality not in MODALITIES:
            key = "data.modality" if self.data.modality else f"{self.task_path(0)}.name"
            raise RecipeError(f"{key}: {MODALITIES.unknown_message(self.modality)}")
        modality_cls = MODALITIES.get(self.modality)
        modality_cls().reader_params(self.data.params)
        if self.data.demo is not None and self.data.demo not in DEMOS:
            raise RecipeError(f"data.demo: {DEMOS.unknown_message(self.data.demo)}")
        for i, entry in enumerate(entries):
            path = self.task_path(i)
            _check_component(entry, TASKS, path)
            task_cls = TASKS.get(entry.name)
            if task_cls.modality and task_cls.modality != self.modality:
                raise RecipeError(
                    f"{path}.name: {entry.name!r} is a {task_cls.modality} task but the data is "
                    f"{self.modality}; pick a {self.modality}.* task (see `proxyml tasks`)"
                )
            try:
                task_cls(**entry.params)
            except RecipeError as exc:
                raise RecipeError(str(exc).replace("task.params", f"{path}.params", 1)) from None
            _check_capabilities(f"{path}.name", entry.name, task_cls, modality_cls, self.modality)
        encoder = self.encoder or Component(name=self.encoder_name)
        _check_component(encoder, ENCODERS, "encoder")
        encoder_cls = ENCODERS.get(encoder.name)
        if encoder_cls.modality and encoder_cls.modality != self.modality:
            raise RecipeError(
                f"encoder.name: {encoder.name!r} encodes {encoder_cls.modality} data but the data is "
                f"{self.modality}; use a {self.modality}.* encoder (default: "
                f"{MODALITIES.get(self.modality).default_encoder})"
            )
        validate_params(encoder_cls.Params, encoder.params, "encoder.params")
        _check_capabilities("encoder.name", encoder.name, encoder_cls, modality_cls, self.modality)
        for i, baseline in enumerate(self.baselines):
            _check_component(baseline, BASELINES, f"evaluate.baselines.{i}")
            baseline_cls = BASELINES.get(baseline.name)
            if baseline_cls.modality and baseline_cls.modality != self.modality:
                raise RecipeError(
                    f"evaluate.baselines.{i}.name: {baseline.name!r} is a {baseline_cls.modality} baseline but the "
                    f"data is {self.modality}; the {self.modality} baselines are "
                    f"{list(MODALITIES.get(self.modality).default_baselines)}")
            validate_params(baseline_cls.Params, baseline.params, f"evaluate.baselines.{i}.params")


def _check_capabilities(key: str, name: str, component: Any, modality_cls: Any, modality: str) -> None:
    """Refuse a task or encoder that cannot take what the modality's reader gives."""
    if getattr(modality_cls, "variable_length", False) and not getattr(component, "variable_length", False):
        raise RecipeError(
            f"{key}: {name!r} takes fixed-length input, but the {modality} reader gives samples of "
            f"varying length (padded, with a mask); use a {modality}.* component that declares "
            "variable_length = True"
        )
    if getattr(component, "needs_metadata", False) and not getattr(modality_cls, "provides_metadata", False):
        raise RecipeError(
            f"{key}: {name!r} learns from a metadata column, but the {modality} reader gives no "
            "per-sample metadata"
        )


def _check_component(component: Component, registry: Any, key: str) -> None:
    if component.name not in registry:
        raise RecipeError(f"{key}.name: {registry.unknown_message(component.name)}")


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a nested dict.

    Missing sections are created, and so are sections left empty (``null``) in the YAML.

    Example:
        >>> apply_overrides({"trainer": {"max_epochs": 20}}, ["trainer.max_epochs=3"])
        {'trainer': {'max_epochs': 3}}
    """
    data = copy.deepcopy(data)
    for override in overrides:
        key, sep, raw = override.partition("=")
        parts = [part.strip() for part in key.split(".")]
        if not sep or not all(parts):
            raise RecipeError(f"--set {override!r}: expected key.sub=value, e.g. trainer.max_epochs=3")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or exc
            raise RecipeError(
                f"--set {override!r}: the value {raw.strip()!r} is not valid YAML ({problem}); "
                f"quote it to set a string, e.g. --set '{key.strip()}=\"{raw.strip()}\"'"
            ) from None
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            child = _child(node, part, override, ".".join(parts[:i]))
            if child is None:
                child = node[part] = {}
            if not isinstance(child, (dict, list)):
                section = ".".join(parts[: i + 1])
                raise RecipeError(
                    f"--set {override!r}: {section} is {child!r}, not a section, so it has no key {parts[i + 1]!r}"
                )
            node = child
        if isinstance(node, list):
            node[_list_index(node, parts[-1], override, ".".join(parts[:-1]))] = value
        else:
            node[parts[-1]] = value
    return data


def _list_index(items: list[Any], part: str, override: str, where: str) -> int:
    """``part`` as a position in the list at ``where`` (``tasks.1.params.x``: the second task)."""
    if not part.isdigit() or int(part) >= len(items):
        raise RecipeError(f"--set {override!r}: {where} is a list of {len(items)}; use a position from 0 to "
                          f"{len(items) - 1} (e.g. {where}.0), not {part!r}")
    return int(part)


def _child(node: Any, part: str, override: str, where: str) -> Any:
    if isinstance(node, list):
        return node[_list_index(node, part, override, where)]
    return node.get(part)


def recipe_from_dict(data: dict[str, Any], base_dir: Path | None = None, *, origin: str = "recipe") -> Recipe:
    """Validate a recipe given as a dict (components included)."""
    if not isinstance(data, dict):
        raise RecipeError(f"{origin}: expected a mapping at the top level, got {type(data).__name__}")
    encoder, data_section = data.get("encoder"), data.get("data")
    first_task = data.get("task")
    if first_task is None and isinstance(data.get("tasks"), list) and data["tasks"]:
        first_task = data["tasks"][0]
    if isinstance(encoder, dict) and "name" not in encoder and isinstance(first_task, dict):
        # `--set encoder.params.x=...` on a recipe that relies on the default encoder
        declared = data_section.get("modality") if isinstance(data_section, dict) else None
        modality = declared or str(first_task.get("name", "")).split(".")[0]
        if modality in MODALITIES:
            data = {**data, "encoder": {"name": MODALITIES.get(modality).default_encoder, **encoder}}
    try:
        recipe = Recipe(**data)
    except ValidationError as exc:
        message = format_validation_error(exc, Recipe)
        if "task" not in data and "tasks" not in data and "pretext task" not in message:
            message += "\ntask: required key is missing (or tasks: a list of tasks)"
        raise RecipeError(message) from None
    recipe._base_dir = base_dir
    recipe.validate_components()
    return recipe


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            try:
                repeated = key in seen
            except TypeError:
                continue  # an unhashable key: the mapping constructor says what is wrong
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (lines {seen[key]} and {line}); "
                    "YAML would keep only the last, so say it once", key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse recipe YAML safely; a key repeated within one mapping is an error.

    Example:
        >>> load_yaml("{a: 1, b: 2}")
        {'a': 1, 'b': 2}
        >>> try:
        ...     load_yaml("{a: 1, a: 2}")
        ... except yaml.YAMLError as exc:
        ...     print(exc.problem)
        the key 'a' is given twice (lines 1 and 1); YAML would keep only the last, so say it once
    """
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error in one line: where, and what."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is None or problem is None:
        return " ".join(str(exc).split())
    context = getattr(exc, "context", None)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" + (f" ({context})" if context else "")


def load_recipe(path: str | Path, overrides: Sequence[str] = ()) -> Recipe:
    """Read, override and validate the recipe at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe not found: {path}")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
    except UnicodeDecodeError:
        raise RecipeError(f"{path}: not a text file (a recipe is UTF-8 YAML)") from None
    if data is None and not overrides:
        raise RecipeError(f"{path}: the recipe is empty; it needs at least name, data and task")
    if data is not None and not isinstance(data, dict):
        raise RecipeError(f"{path}: expected a mapping (key: value) at the top level, got {type(data).__name__}")
    try:
        return recipe_from_dict(apply_overrides(data or {}, overrides), path.parent.resolve(), origin=str(path))
    except RecipeError as exc:
        raise RecipeError(f"{path}: {exc}") from None
