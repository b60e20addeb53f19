"""Registries: decorator registration, helpful errors for unknown names, plugin discovery."""

from __future__ import annotations

import logging

import pytest

from proxyml import registry
from proxyml.modalities.timeseries.tasks import NextStepTask, SegmentOrderTask
from proxyml.registry import TASKS, Registry, list_tasks


@pytest.fixture
def things() -> Registry:
    return Registry("thing")


def test_decorator_registers_and_returns_the_class(things: Registry) -> None:
    @things.register("square")
    class Square: ...

    assert things.get("square") is Square
    assert Square.registry_name == "square"
    assert "square" in things and "circle" not in things


def test_names_items_and_iteration_are_sorted(things: Registry) -> None:
    for name in ("b", "c", "a"):
        things.register(name)(type(name.upper(), (), {}))
    assert things.names() == ["a", "b", "c"]
    assert list(things) == ["a", "b", "c"]
    assert [name for name, _ in things.items()] == ["a", "b", "c"]


def test_functions_can_be_registered(things: Registry) -> None:
    def make() -> int:
        return 3

    assert things.register("maker")(make) is make
    assert things.get("maker")() == 3


def test_duplicate_name_is_rejected(things: Registry) -> None:
    @things.register("square")
    class Square: ...

    class Other: ...

    with pytest.raises(ValueError, match=r"thing 'square' is already registered by .*Square.*pick another name"):
        things.register("square")(Other)
    assert things.get("square") is Square


def test_registering_the_same_object_again_is_fine(things: Registry) -> None:
    class Square: ...

    things.register("square")(Square)
    assert things.register("square")(Square) is Square
    assert things.names() == ["square"]


def test_unknown_name_suggests_the_closest(things: Registry) -> None:
    things.register("square")(type("Square", (), {}))
    things.register("circle")(type("Circle", (), {}))
    with pytest.raises(KeyError) as info:
        things.get("sqare")
    assert info.value.args[0] == "unknown thing 'sqare'; did you mean 'square'? Known: circle, square"


def test_suggestion_ignores_case(things: Registry) -> None:
    things.register("square")(type("Square", (), {}))
    assert "did you mean 'square'?" in things.unknown_message("SQUARE")


def test_unknown_name_without_a_close_match_lists_known(things: Registry) -> None:
    things.register("square")(type("Square", (), {}))
    assert things.unknown_message("zzz") == "unknown thing 'zzz'. Known: square"
    assert Registry("empty").unknown_message("zzz") == "unknown empty 'zzz'. Known: (none)"


def test_list_tasks_has_the_timeseries_tasks_with_summaries() -> None:
    tasks = list_tasks()
    assert tasks["timeseries.next_step"] == NextStepTask.summary()
    assert tasks["timeseries.next_step"].startswith("Forecast the next `horizon` steps")
    assert tasks["timeseries.segment_order"] == SegmentOrderTask.summary()
    assert tasks["timeseries.segment_order"].startswith("Cut into k segments")
    assert all("\n" not in summary and summary for summary in tasks.values())
    assert list(tasks) == sorted(tasks)


class _FakeEntryPoint:
    def __init__(self, value: str, load) -> None:
        self.value = value
        self.load = load


@pytest.fixture
def fresh_discovery(monkeypatch: pytest.MonkeyPatch):
    """Discovery runs again; the task registry is restored afterwards."""
    registry.discover()  # built-ins are registered (and stay) before the registry is copied
    monkeypatch.setattr(TASKS, "_items", dict(TASKS._items))
    monkeypatch.setattr(registry, "_discovered", False)
    # the CLI may have stopped "proxyml" logs from reaching caplog's root handler
    monkeypatch.setattr(logging.getLogger("proxyml"), "propagate", True)

    def install(*entry_points: _FakeEntryPoint) -> list[str]:
        groups: list[str] = []

        def entry_points_of(group: str) -> list[_FakeEntryPoint]:
            groups.append(group)
            return list(entry_points) if group == "proxyml.tasks" else []

        monkeypatch.setattr(registry.metadata, "entry_points", entry_points_of)
        return groups

    return install


def test_plugins_from_the_entry_point_group_are_loaded(fresh_discovery) -> None:
    class EchoTask:
        """Repeat the input (a third-party plugin).

        More text that is not part of the summary.
        """

        @classmethod
        def summary(cls) -> str:
            return cls.__doc__.strip().splitlines()[0]

    groups = fresh_discovery(_FakeEntryPoint("echo_plugin:register", lambda: TASKS.register("echo.repeat")(EchoTask)))
    assert TASKS.get("echo.repeat") is EchoTask
    assert "proxyml.tasks" in groups
    assert list_tasks()["echo.repeat"] == "Repeat the input (a third-party plugin)."
    assert "timeseries.next_step" in list_tasks()


def test_discovery_runs_once(fresh_discovery) -> None:
    calls: list[int] = []
    groups = fresh_discovery(_FakeEntryPoint("counter:load", lambda: calls.append(1)))
    TASKS.names()
    TASKS.names()
    assert calls == [1]
    assert sorted(groups) == sorted(registry.ENTRY_POINT_GROUPS)


def test_a_broken_plugin_only_logs_a_warning(fresh_discovery, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise ImportError("No module named 'missing_dependency'")

    fresh_discovery(_FakeEntryPoint("broken_plugin:register", broken))
    with caplog.at_level(logging.WARNING, logger="proxyml.registry"):
        names = TASKS.names()
    assert "timeseries.segment_order" in names
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "could not load proxyml plugin 'broken_plugin:register': No module named 'missing_dependency'"
    ]


def test_a_failed_builtin_import_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.discover()
    monkeypatch.setattr(registry, "_imported", False)

    def fail(name: str) -> None:
        raise ImportError(f"cannot import {name}")

    monkeypatch.setattr(registry.importlib, "import_module", fail)
    with pytest.raises(ImportError, match="cannot import proxyml.modalities"):
        registry.discover()
    assert registry._imported is False  # the next lookup tries again instead of finding nothing


def test_the_sources_index_names_every_builtin_where_it_is_registered() -> None:
    """The index read from the sources (so that ``proxyml tasks`` need not import torch) agrees
    with what importing the modalities registers: names, modules and summaries."""
    index = registry.builtin_index()
    assert index is not None
    registry.discover()
    for key, reg in registry._REGISTRIES.items():
        builtins = {name: obj for name, obj in reg._items.items() if obj.__module__.startswith("proxyml.modalities.")}
        assert set(index[key]) == set(builtins), key
        for name, obj in builtins.items():
            assert index[key][name].module == obj.__module__, name
        assert {n: s for n, s in reg.summaries().items() if n in builtins} == {
            n: d.summary for n, d in index[key].items()}, key


def test_a_registration_the_index_cannot_read_makes_lookups_import_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable() -> dict:
        raise ValueError("proxyml.modalities.x, line 3: a registered name that is not one string literal")

    monkeypatch.setattr(registry, "_read_index", unreadable)
    monkeypatch.setattr(registry, "_indexed", False)
    calls: list[int] = []
    real_discover = registry.discover
    monkeypatch.setattr(registry, "discover", lambda: (calls.append(1), real_discover())[1])
    assert "timeseries.next_step" in TASKS.names()
    assert calls
    monkeypatch.setattr(registry, "_indexed", False)  # the next test reads the real index again


def test_the_index_refuses_a_register_call_that_is_not_a_plain_decorator(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import proxyml.modalities as modalities_pkg

    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "__init__.py").write_text(
        "from proxyml.registry import TASKS\n\nNAME = 'fake.task'\n\n@TASKS.register(NAME)\nclass Fake:\n    pass\n")
    monkeypatch.setattr(modalities_pkg, "__path__", [str(tmp_path)])
    with pytest.raises(ValueError, match="fake, line 5: a registered name that is not one string literal"):
        registry._read_index()
    (tmp_path / "fake" / "__init__.py").write_text(
        "from proxyml.registry import TASKS\n\nclass Fake:\n    pass\n\nTASKS.register('fake.task')(Fake)\n")
    with pytest.raises(ValueError, match="not a decorator"):
        registry._read_index()
    (tmp_path / "fake" / "__init__.py").write_text(
        "from proxyml.registry import TASKS\n\n@TASKS.register('fake.task')\nclass Fake:\n    \"\"\"One line.\n\n    More.\"\"\"\n")
    assert registry._read_index()["TASKS"] == {"fake.task": registry.Declared("proxyml.modalities.fake", "One line.")}
