"""Conformance checks every registered task and encoder must pass (see ``tests/``)."""

from proxyml.testing.conformance import (
    ENCODER_CHECKS,
    TASK_CHECKS,
    check_encoder,
    check_modality,
    check_resume_matches,
    check_sample_set,
    check_task,
    compatible,
    task_fixture,
)

__all__ = ["ENCODER_CHECKS", "TASK_CHECKS", "check_encoder", "check_modality", "check_sample_set", "compatible", "check_resume_matches", "check_task", "task_fixture"]
