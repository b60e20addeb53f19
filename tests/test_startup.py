"""Start-up: each verb imports only what it uses (checked in a fresh interpreter, by sys.modules).

Lightning alone costs seconds and hundreds of MB to import (it pulls in torch._dynamo and
torchmetrics, and through torchmetrics scipy.signal, matplotlib and transformers when
installed), so only the verbs that build a Lightning Trainer may import it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "lightning", "torchmetrics", "transformers", "pandas", "sktime", "sklearn", "scipy",
         "matplotlib", "numba")


def imported_after(code: str) -> set[str]:
    """Which of HEAVY a fresh interpreter has imported after running ``code`` (stdout discarded)."""
    script = ("import contextlib, io, json, sys\nwith contextlib.redirect_stdout(io.StringIO()):\n"
              + "".join(f"    {line}\n" for line in code.splitlines())
              + f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_command_line_imports_no_heavy_library() -> None:
    assert imported_after("import proxyml, proxyml.cli") == set()


def test_listing_tasks_imports_no_torch() -> None:
    # the registry reads the built-in modalities' sources for their names and summaries
    for argv in (["tasks"], ["demo"]):
        assert imported_after(f"from proxyml.cli import main\nassert main({argv!r}) == 0") == set(), argv


def test_listing_tasks_verbosely_imports_no_lightning() -> None:
    # -v shows each component's parameters: the modalities are imported, and their tasks and
    # encoders are torch modules; nothing there needs Lightning or any baseline's library
    imported = imported_after("from proxyml.cli import main\nassert main(['tasks', '-v']) == 0")
    assert imported.isdisjoint({"lightning", "torchmetrics", "transformers", "sktime", "sklearn", "scipy",
                                "matplotlib", "numba"}), imported


def test_a_lookup_imports_only_the_modality_that_registers_the_name() -> None:
    script = ("import sys\nfrom proxyml.registry import TASKS\nTASKS.get('tabular.imputation')\n"
              "assert 'proxyml.modalities.tabular' in sys.modules\n"
              "assert not [m for m in sys.modules if m.startswith(('proxyml.modalities.audio', "
              "'proxyml.modalities.video', 'proxyml.modalities.timeseries'))]")
    assert "lightning" not in imported_after(script)


def test_loading_a_recipe_imports_no_lightning() -> None:
    # trainer.lightning is checked against Lightning's signature only when it names something
    imported = imported_after("from proxyml.recipe import load_recipe\n"
                              "load_recipe('recipes/quickstart.yaml', ['trainer.threads=2', "
                              "'trainer.schedule=cosine', 'trainer.warmup_epochs=2', 'trainer.optimizer=sgd'])")
    assert "lightning" not in imported and "sktime" not in imported
    assert "lightning" in imported_after("from proxyml.recipe import load_recipe\n"
                                         "load_recipe('recipes/quickstart.yaml', "
                                         "['trainer.lightning.limit_train_batches=2'])")


def test_check_reads_no_data_and_builds_a_lightning_trainer_only_for_settings_it_may_refuse() -> None:
    imported = imported_after("from proxyml.cli import main\nassert main(['check', 'recipes/quickstart.yaml']) == 0")
    assert imported.isdisjoint({"lightning", "sktime", "sklearn", "numba"}), imported
    # a strategy, a 16-bit precision or any trainer.lightning argument: Lightning itself validates them
    imported = imported_after("from proxyml.cli import main\nassert main(['check', 'recipes/quickstart.yaml', "
                              "'--set', 'trainer.strategy=ddp', '--set', 'trainer.accelerator=cpu', "
                              "'--set', 'trainer.devices=2']) == 0")
    assert "lightning" in imported and imported.isdisjoint({"sktime", "sklearn", "numba"}), imported


def test_evaluating_a_run_folder_again_imports_no_lightning(tiny_recipe, tmp_path) -> None:
    from proxyml import pipeline

    pipeline.run(tiny_recipe("trainer.max_epochs=1"))
    imported = imported_after(f"from proxyml.cli import main\n"
                              f"assert main(['evaluate', {str(tmp_path / 'run')!r}, '--set', 'evaluate.repeats=2', "
                              f"'--out', {str(tmp_path / 'again')!r}]) == 0")
    assert "lightning" not in imported and "torchmetrics" not in imported
    assert (tmp_path / "again" / "report.json").is_file()
