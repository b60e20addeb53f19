"""Conformance checks every registered task and encoder must pass (see ``tests/``)."""

from proxyml.testing.conformance import (
    ENCODER_CHECKS,
    TASK_CHECKS,
    check_encoder,
    check_resume_matches,
    check_task,
    task_fixture,
)

__all__ = ["ENCODER_CHECKS", "TASK_CHECKS", "check_encoder", "check_resume_matches", "check_task", "task_fixture"]
