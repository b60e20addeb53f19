"""A scikit-learn transformer around a proxy model: fit on unlabeled arrays, embed, score.

:class:`ProxyTransformer` trains a pretext task (a registry name, as in a recipe) on the rows
of ``X`` with the common :class:`proxyml.trainer.Trainer`, then gives embeddings
(:meth:`~ProxyTransformer.transform`) and proxy scores (:meth:`~ProxyTransformer.score_samples`),
so a proxy model drops into a :class:`sklearn.pipeline.Pipeline` and :class:`GridSearchCV`.

Inputs, by the task's modality:

- ``tabular``: ``X`` of shape ``(n, d)``, ``d`` numeric columns, NaN = missing. Rows are laid
  out as the tabular reader lays them out (:mod:`proxyml.modalities.tabular.layout`): values
  standardised with the mean and std fitted in :meth:`~ProxyTransformer.fit` (stored in
  ``preprocessing_``), plus missing indicators.
- ``timeseries``: ``X`` of shape ``(n, L)`` (one channel) or ``(n, C, L)``, finite values,
  normalised per channel with the mean and std fitted in :meth:`~ProxyTransformer.fit`.

Training is deterministic for a given ``seed`` (on CPU): it runs single-threaded by default
(``threads``), and leaves the caller's random generators, torch thread count and torch
determinism setting as they were. Embeddings and scores are computed in float64, so a row gets
the same output whatever else is in the batch.
"""

from __future__ import annotations

import random
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from proxyml.data import SampleSet
from proxyml.encoders import create_encoder
from proxyml.errors import DataError
from proxyml.modality import get_modality
from proxyml.recipe import TrainerSection
from proxyml.registry import TASKS
from proxyml.tasks import create_task
from proxyml.trainer import Prediction, PretextModule, Trainer

MODALITIES = ("tabular", "timeseries")
"""The modalities whose tasks :class:`ProxyTransformer` can train on arrays."""

#: Lightning's notes about how it was set up, none of which a transformer's user can act on
_LIGHTNING_CHATTER = (
    r".*defined a `validation_step` but have no `val_dataloader`.*",
    r".*GPU available but not used.*",
    r".*does not have many workers.*",
    r".*smaller than the logging interval.*",
    r".*LeafSpec.*",
)


class ProxyTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Train a self-supervised proxy model on unlabeled ``X``; embed and score samples with it.

    Parameters
    ----------
    task : str, default="tabular.imputation"
        A registered pretext task (``proxyml tasks`` lists them); its modality (``tabular`` or
        ``timeseries``) says what ``X`` is.
    task_params : dict or None, default=None
        The task's parameters (as ``task.params`` in a recipe).
    encoder : str or None, default=None
        A registered encoder; ``None``: the modality's default encoder.
    encoder_params : dict or None, default=None
        The encoder's parameters (as ``encoder.params`` in a recipe).
    max_epochs, batch_size, learning_rate : default=10, 64, 1e-3
        As in a recipe's ``trainer:`` section.
    seed : int, default=0
        Seeds the initial weights and every batch's perturbation: the same seed and data give
        the same model.
    val_fraction : float, default=0.0
        A held-out slice of ``X`` for early stopping (patience 5); the model kept is the best
        by held-out loss. ``0``: every row trains, for ``max_epochs`` epochs.
    threads : int or None, default=1
        torch CPU threads while fitting and predicting (restored afterwards); ``None``: the
        Trainer's own choice (``trainer.threads: auto``).

    Attributes
    ----------
    module_ : PretextModule
        The trained model (in float64, in eval mode).
    preprocessing_ : dict
        The fitted input transform (JSON-able; the reader's ``preprocessing.json`` format).
    embed_dim_ : int
        Width of the embeddings :meth:`transform` returns.
    history_ : list of dict
        Per epoch, the training (and held-out) loss.
    series_shape_ : tuple of int
        Time-series tasks only: ``(channels, steps)`` of the series fitted on (and expected).
    n_features_in_ : int
        Columns of ``X`` (tabular, 2-D series: steps; 3-D series: channels).
    feature_names_in_ : ndarray of str
        Column names of ``X``, when it was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((40, 3))
    >>> proxy = ProxyTransformer(max_epochs=1, encoder_params={"embed_dim": 4, "hidden_dim": 8})
    >>> proxy.fit(X).transform(X).shape, proxy.score_samples(X).shape
    ((40, 4), (40,))
    """

    def __init__(
        self,
        task: str = "tabular.imputation",
        task_params: dict[str, Any] | None = None,
        encoder: str | None = None,
        encoder_params: dict[str, Any] | None = None,
        max_epochs: int = 10,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        seed: int = 0,
        val_fraction: float = 0.0,
        threads: int | None = 1,
    ) -> None:
        self.task = task
        self.task_params = task_params
        self.encoder = encoder
        self.encoder_params = encoder_params
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed
        self.val_fraction = val_fraction
        self.threads = threads

    # -- scikit-learn protocol -------------------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        modality = _modality_of(self.task)
        tags.input_tags.allow_nan = modality != "timeseries"  # tabular: NaN = a missing cell
        tags.input_tags.three_d_array = modality == "timeseries"
        tags.non_deterministic = False
        return tags

    @property
    def _n_features_out(self) -> int:
        """Embedding width (for :meth:`get_feature_names_out`); AttributeError before fit."""
        return self.embed_dim_

    def fit(self, X: Any, y: Any = None) -> ProxyTransformer:
        """Train the proxy model on the rows of ``X``; ``y`` is ignored (self-supervised)."""
        modality = self._modality()
        config = self._trainer_config()
        threads = self._threads()
        array = self._validate(X, modality, reset=True)
        if modality == "tabular":
            preprocessing = _fit_table(array)
        else:
            from proxyml.modalities.timeseries import cleaning

            preprocessing = cleaning.fit_preprocessing(
                array, normalize="dataset", length_policy="pad", stored=None, source="X")
        dataset = _dataset(array, modality, preprocessing)
        task = create_task(self.task, dict(self.task_params or {}))
        try:
            task.check_spec(dataset.spec)  # e.g. too few columns, series too short
        except DataError as exc:
            raise ValueError(f"{self.task} cannot be fitted on X of shape {np.shape(X)} "
                             f"({self.n_features_in_} feature(s)): {exc}") from None
        task.prepare(dataset)
        encoder_name = self.encoder or get_modality(modality).default_encoder
        with _torch_settings(threads):
            torch.manual_seed(self.seed)  # the initial weights, as pipeline.build_module seeds them
            module = PretextModule(
                task,
                create_encoder(encoder_name, dataset.spec, dict(self.encoder_params or {})),
                learning_rate=config.learning_rate,
                weight_decay=config.weight_decay,
                seed=self.seed,
                preprocessing=preprocessing,
            )
            with tempfile.TemporaryDirectory(prefix="proxyml-sklearn-") as folder:
                result = Trainer(config, folder, seed=self.seed).fit(module, dataset)
                module.trainer = None  # the fit Trainer holds X: let it go
                if result.checkpoint is not None and result.checkpoint.exists():
                    # the best epoch by held-out loss (else the last), as pipeline.train keeps it
                    module = PretextModule.from_checkpoint(result.checkpoint)
        # float64 inference: a row's output never depends on the size of its batch
        self.module_ = module.double().eval()
        self.preprocessing_ = preprocessing
        self.embed_dim_ = int(module.encoder.embed_dim)
        self.history_ = result.history
        if modality == "timeseries":
            self.series_shape_ = tuple(int(s) for s in array.shape[1:])
        else:
            self.__dict__.pop("series_shape_", None)  # from an earlier fit on series
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embeddings ``(n, embed_dim_)`` (float64) of the rows of ``X``."""
        return self._predict(X).embeddings.astype(np.float64)

    def score_samples(self, X: Any) -> np.ndarray:
        """Proxy scores ``(n,)`` (float64) of the rows of ``X``: what a high score means is the
        task's ``proxy_score_meaning`` (for ``tabular.imputation``: high = unusual row)."""
        return np.asarray(self._predict(X).scores, dtype=np.float64)

    # -- internals -------------------------------------------------------------------------
    def _modality(self) -> str:
        try:
            modality = str(TASKS.get(self.task).modality)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"task={self.task!r}: {exc.args[0] if exc.args else exc}") from None
        if modality not in MODALITIES:
            raise ValueError(f"task={self.task!r} is a {modality} task; ProxyTransformer trains tasks on arrays of "
                             f"the {' and '.join(MODALITIES)} modalities")
        return modality

    def _trainer_config(self) -> TrainerSection:
        settings: dict[str, Any] = {
            "max_epochs": self.max_epochs, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
            "val_fraction": self.val_fraction, "early_stopping_patience": 5 if self.val_fraction else None,
            "progress_bar": False, "accelerator": "cpu", "devices": 1, "num_workers": 0}
        if "threads" in TrainerSection.model_fields:  # a Trainer that limits torch's threads itself
            threads = self._threads()
            settings["threads"] = "auto" if threads is None else threads
        try:
            return TrainerSection(**settings)
        except ValueError as exc:  # pydantic's ValidationError: name the parameters
            raise ValueError(f"ProxyTransformer: invalid training parameters: {exc}") from None

    def _threads(self) -> int | None:
        if self.threads is None:
            return None
        if isinstance(self.threads, bool) or not isinstance(self.threads, (int, np.integer)) or self.threads < 1:
            raise ValueError(f"threads={self.threads!r}: a number of threads (at least 1), or None")
        return int(self.threads)

    def _validate(self, X: Any, modality: str, *, reset: bool) -> np.ndarray:
        """``X`` checked (and its columns counted or compared) as a float64 array: ``(n, d)``
        for tables, ``(n, C, L)`` for series."""
        if modality == "tabular":
            return validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan")
        array = validate_data(self, X, reset=reset, dtype=np.float64, allow_nd=True)
        if array.ndim == 2:
            array = array[:, None, :]
        if array.ndim != 3:
            raise ValueError(f"{self.task} expects series X of shape (n, L) or (n, C, L); got {array.shape}")
        if not reset and tuple(array.shape[1:]) != self.series_shape_:
            raise ValueError(f"X holds series of shape {tuple(array.shape[1:])} (channels, steps), but "
                             f"ProxyTransformer was fitted on {self.series_shape_}")
        return array

    def _predict(self, X: Any) -> Prediction:
        check_is_fitted(self)
        modality = self._modality()
        dataset = _dataset(self._validate(X, modality, reset=False), modality, self.preprocessing_)
        config = self._trainer_config().model_copy(update={"precision": "64-true"})
        module = self.module_
        with _torch_settings(self._threads()), tempfile.TemporaryDirectory(prefix="proxyml-sklearn-") as folder:
            try:
                prediction = Trainer(config, folder, seed=self.seed).predict(module, dataset)
            finally:
                module.trainer = None  # the predict Trainer holds X: let it go
        if prediction.failed:  # arrays always decode; kept as a safeguard
            raise DataError(f"{len(prediction.failed)} sample(s) produced no output, "
                            f"e.g. {next(iter(prediction.failed.items()))}")
        return prediction


def _modality_of(task: Any) -> str | None:
    """The modality of ``task``, or ``None`` for a name that is not a registered task."""
    try:
        return str(TASKS.get(task).modality)
    except Exception:  # tags are read for any parameter value, even a nonsensical one
        return None


def _dataset(array: np.ndarray, modality: str, preprocessing: dict[str, Any]) -> SampleSet:
    """``array`` (validated: ``(n, d)`` or ``(n, C, L)``) as a sample set, transformed with
    ``preprocessing`` as the modality's reader transforms what it reads."""
    ids = [str(i) for i in range(len(array))]
    if modality == "tabular":
        from proxyml.modalities.tabular.io import TableSampleSet

        return TableSampleSet(_encode_table(array, preprocessing), ids, preprocessing=preprocessing, source="X")
    from proxyml.modalities.timeseries.io import SeriesSampleSet

    mean = np.asarray(preprocessing["mean"], dtype=np.float64)[None, :, None]
    std = np.asarray(preprocessing["std"], dtype=np.float64)[None, :, None]
    values = ((array - mean) / std).astype(np.float32)  # in float64: no overflow near float32's limit
    return SeriesSampleSet(values, ids, source="X", preprocessing=preprocessing)


def _columns(width: int) -> list[str]:
    return [f"x{i}" for i in range(width)]


def _fit_table(array: np.ndarray) -> dict[str, Any]:
    """The tabular reader's transform of ``array`` ``(n, d)``: every column numeric."""
    from proxyml.modalities.tabular import preprocessing as prep

    frame = pd.DataFrame(array, columns=_columns(array.shape[1]))
    return prep.fit_preprocessing(frame, list(frame.columns), {}, max_categories=1)


def _encode_table(array: np.ndarray, preprocessing: dict[str, Any]) -> np.ndarray:
    """Rows of ``array`` ``(n, d)`` laid out as the tabular reader lays them out ``(n, 2d)``;
    a value beyond float32 range counts as missing (with a warning, as the reader notes it)."""
    from proxyml.modalities.tabular import preprocessing as prep

    rows, notes = prep.encode_rows(pd.DataFrame(array, columns=_columns(array.shape[1])), preprocessing)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=4)
    return rows


@contextmanager
def _torch_settings(threads: int | None) -> Iterator[None]:
    """Run a block with ``threads`` torch threads and Lightning's start-up notes silenced,
    restoring torch's thread count, its determinism setting (Lightning turns it on for CPU
    runs) and the global random generators (torch, numpy, random) afterwards."""
    before_threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        if threads is not None and threads != before_threads:
            torch.set_num_threads(threads)
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            for message in _LIGHTNING_CHATTER:
                warnings.filterwarnings("ignore", message=message)
            yield
    finally:
        if torch.get_num_threads() != before_threads:
            torch.set_num_threads(before_threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        np.random.set_state(numpy_state)
        random.setstate(python_state)


__all__ = ["ProxyTransformer"]
