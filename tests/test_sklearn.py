"""ProxyTransformer: scikit-learn's own estimator checks, a Pipeline in GridSearchCV, time series."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from proxyml.modalities.timeseries.io import read_series
from proxyml.sklearn import ProxyTransformer

TINY = {"embed_dim": 4, "hidden_dim": 8, "depth": 1}


def tiny(**params: object) -> ProxyTransformer:
    settings: dict[str, object] = {"max_epochs": 1, "batch_size": 16, "encoder_params": dict(TINY)}
    return ProxyTransformer(**(settings | params))  # type: ignore[arg-type]


@parametrize_with_checks([tiny()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# checks of the feature-name and set_output API that parametrize_with_checks does not yield
EXTRA_CHECKS = [
    "check_dataframe_column_names_consistency",
    "check_get_feature_names_out_error",
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
]


@pytest.mark.filterwarnings("ignore:X (does not have valid|has) feature names")  # the checks mix inputs on purpose
@pytest.mark.parametrize("name", EXTRA_CHECKS)
def test_sklearn_feature_name_and_output_checks(name):
    getattr(estimator_checks, name)("ProxyTransformer", tiny())


def rows(n: int = 40, d: int = 5, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)) * 3 + 10
    x[::7, 1] = np.nan
    return x


def test_pipeline_in_grid_search_on_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    pipeline = Pipeline([
        ("proxy", ProxyTransformer(batch_size=64, encoder_params={"embed_dim": 16, "hidden_dim": 32, "depth": 1})),
        ("probe", LogisticRegression(max_iter=2000)),
    ])
    search = GridSearchCV(pipeline, {"proxy__max_epochs": [1, 2]}, cv=2).fit(X, y)
    assert search.best_params_["proxy__max_epochs"] in (1, 2)
    assert search.best_score_ > 0.8
    assert search.score(X, y) > 0.8


def test_same_seed_same_model_other_seed_another():
    X = rows()
    first, again = tiny(max_epochs=2).fit(X), tiny(max_epochs=2).fit(X)
    np.testing.assert_array_equal(first.transform(X), again.transform(X))
    np.testing.assert_array_equal(first.score_samples(X), again.score_samples(X))
    other = tiny(max_epochs=2, seed=1).fit(X)
    assert not np.allclose(first.transform(X), other.transform(X))


def test_outputs_missing_cells_and_leaves_global_state_alone():
    import torch

    X = rows()
    torch.manual_seed(123)
    np.random.seed(123)
    expected_torch, expected_numpy = torch.rand(1), np.random.rand()
    torch.manual_seed(123)
    np.random.seed(123)
    threads = torch.get_num_threads()
    proxy = tiny().fit(X)
    embeddings, scores = proxy.transform(X), proxy.score_samples(X)
    assert embeddings.shape == (40, 4) and embeddings.dtype == np.float64
    assert scores.shape == (40,) and np.isfinite(scores).all() and np.isfinite(embeddings).all()
    assert proxy.preprocessing_["numeric"][0]["mean"] == pytest.approx(np.nanmean(X[:, 0]))
    assert torch.rand(1) == expected_torch and np.random.rand() == expected_numpy
    assert torch.get_num_threads() == threads
    assert len(proxy.history_) == 1 and "train_loss" in proxy.history_[0]


def test_silent(capfd):
    X = rows()
    tiny(val_fraction=0.2, max_epochs=2).fit(X).transform(X)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_pickle_clone_and_dataframe_names():
    X = pd.DataFrame(rows(), columns=[f"c{i}" for i in range(5)])
    proxy = tiny().fit(X)
    assert list(proxy.feature_names_in_) == list(X.columns)
    restored = pickle.loads(pickle.dumps(proxy))
    np.testing.assert_array_equal(restored.transform(X), proxy.transform(X))
    assert clone(proxy).get_params() == proxy.get_params()
    frame = tiny().set_output(transform="pandas").fit(X).transform(X)
    assert list(frame.columns) == [f"proxytransformer{i}" for i in range(4)]


def test_held_out_slice_and_bad_settings():
    X = rows(n=60)
    proxy = tiny(max_epochs=3, val_fraction=0.2).fit(X)
    assert "val_loss" in proxy.history_[-1]
    with pytest.raises(ValueError, match="tabular.imputation needs at least 2 input columns"):
        tiny().fit(X[:, :1])
    with pytest.raises(ValueError, match="unknown task"):
        tiny(task="tabular.nope").fit(X)
    with pytest.raises(ValueError, match="max_epochs"):
        tiny(max_epochs=0).fit(X)
    with pytest.raises(ValueError, match="threads"):
        tiny(threads=0).fit(X)


def test_timeseries_gunpoint():
    series = read_series("sktime:GunPoint", split="train")
    X = series.raw(np.arange(len(series)))  # (50, 1, 150)
    proxy = ProxyTransformer(task="timeseries.segment_order", max_epochs=1, batch_size=25)
    embeddings = proxy.fit(X).transform(X)
    assert embeddings.shape == (50, 64) and np.isfinite(embeddings).all()
    assert proxy.score_samples(X).shape == (50,)
    assert proxy.series_shape_ == (1, 150)
    # (n, L) is one channel: the same model and embeddings
    flat = ProxyTransformer(task="timeseries.segment_order", max_epochs=1, batch_size=25).fit(X[:, 0])
    np.testing.assert_allclose(flat.transform(X[:, 0]), embeddings)
    with pytest.raises(ValueError, match="fitted on"):
        proxy.transform(X[:, :, :100])
