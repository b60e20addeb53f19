"""Every registered task and encoder passes every conformance check (new plugins join automatically)."""

from __future__ import annotations

import pytest
import torch

from proxyml.registry import ENCODERS, MODALITIES, TASKS
from proxyml.testing import (
    ENCODER_CHECKS,
    TASK_CHECKS,
    check_modality,
    check_resume_matches,
    compatible,
    task_fixture,
)


@pytest.mark.parametrize("check", TASK_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", TASKS.names())
def test_task_conformance(name: str, check) -> None:
    task_cls = TASKS.get(name)
    for params in task_cls.test_params():
        check(task_fixture(task_cls, params, test_metadata=True))


@pytest.mark.parametrize("check", ENCODER_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", ENCODERS.names())
def test_encoder_conformance(name: str, check) -> None:
    encoder_cls = ENCODERS.get(name)
    for params in encoder_cls.test_params():
        check(encoder_cls, params)


def test_every_task_names_its_modality_and_family() -> None:
    for name in TASKS.names():
        task_cls = TASKS.get(name)
        assert name.startswith(task_cls.modality + "."), name
        assert task_cls.family, f"{name} names no task family"
        assert task_cls.proxy_score_meaning, f"{name} does not say what its proxy score means"


def _with_randomness(encoder_cls) -> dict:
    """The encoder's test parameters with its dropout (if it has one) switched on."""
    params = dict(encoder_cls.test_params()[0])
    if "dropout" in encoder_cls.Params.model_fields:
        params["dropout"] = 0.3
    return params


@pytest.mark.parametrize("name", TASKS.names())
def test_a_killed_run_resumes_to_the_same_weights(name: str, tmp_path) -> None:
    task_cls = TASKS.get(name)
    for encoder_name in ENCODERS.names():
        encoder_cls = ENCODERS.get(encoder_name)
        if compatible(task_cls, encoder_cls):
            check_resume_matches(task_cls, task_cls.test_params()[0], encoder_cls, _with_randomness(encoder_cls),
                                 tmp_path / encoder_name)


@pytest.mark.parametrize("name", MODALITIES.names())
def test_modality_data_path_conformance(name: str, tmp_path) -> None:
    check_modality(MODALITIES.get(name), tmp_path)


def test_conformance_checks_leave_the_global_rng_alone() -> None:
    from proxyml.registry import TASKS

    state = torch.random.get_rng_state()
    task_fixture(TASKS.get("timeseries.segment_order"), {})
    assert torch.equal(state, torch.random.get_rng_state())
