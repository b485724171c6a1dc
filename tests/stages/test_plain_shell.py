"""DVC's stage commands find the project's environment without it being activated: `dvc exp run` typed in a plain
shell (PATH without the environment) runs the stages with the environment's Python (scripts/python.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]


def test_dvc_exp_run_from_a_plain_shell(tmp_path: Path, git_copy) -> None:  # noqa: ANN001
    repo = git_copy(tmp_path / "politune")
    (repo / ".venv").symlink_to(sys.prefix)  # as after `make setup`: the environment in the checkout
    dvc = str(Path(sys.prefix) / "bin" / "dvc")
    plain = {k: v for k, v in os.environ.items() if k not in ("VENV", "VIRTUAL_ENV", "PYTHONPATH")}
    plain["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    shell_python = shutil.which("python", path=plain["PATH"]) or shutil.which("python3", path=plain["PATH"])
    if shell_python:
        ok = subprocess.run([shell_python, "-c", "import polars, torch, trl"], env=plain, capture_output=True)
        if ok.returncode == 0:
            pytest.skip(f"{shell_python} has the project's packages: a plain shell would work anyway")
    p = subprocess.run(
        [dvc, "exp", "run", "ingest", "-S", "ingest.min_chars=25"],
        cwd=repo,
        env=plain,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "Running stage 'ingest'" in p.stdout and (repo / "data/interim/posts.jsonl").stat().st_size > 0
    # a temporary experiment runs in a copy under .dvc/tmp/exps: the wrapper finds .venv above it
    t = subprocess.run(
        [dvc, "exp", "run", "--temp", "ingest", "-S", "ingest.min_chars=30"],
        cwd=repo,
        env=plain,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert t.returncode == 0 and "Ran experiment" in t.stdout, t.stdout[-3000:] + t.stderr[-3000:]
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, env=plain, capture_output=True, text=True
    )
    assert ".venv" not in status.stdout  # the link is ignored, never committed
