"""The import contract (pyproject.toml [tool.importlinter], run by `make lint`) really fails on a violation: a
copy of the code with one forbidden import added breaks it, naming the contract and the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_forbidden_import_breaks_the_contract(tmp_path: Path) -> None:
    skip = shutil.ignore_patterns("__pycache__")
    for pkg in ("politune", "stages"):
        shutil.copytree(REPO / pkg, tmp_path / pkg, ignore=skip)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    clean = _lint(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (tmp_path / "politune" / "sneaky.py").write_text("from stages._common import get_params\nimport click\n")
    broken = _lint(tmp_path)
    out = broken.stdout + broken.stderr
    assert broken.returncode != 0
    assert "the library never imports the pipeline's stages, DVC or dvclive BROKEN" in out
    assert "click only in the library's command line (politune.cli) BROKEN" in out
    assert "politune.sneaky -> stages._common" in out and "politune.sneaky -> click" in out
