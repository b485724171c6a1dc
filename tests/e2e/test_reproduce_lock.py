"""The committed dvc.lock reproduces on a clean copy: the data stages (check, base_model, ingest, annotate with the
real embedded annotator, select, synthesize) on the full default params give every output the hash dvc.lock
records, and scripts/repro_check.py names the first stage that does not.

Float stages are compared where this machine computes the same bits as the run that made dvc.lock (the check
stage's data/check/numerics.json; docs/reliability.md); elsewhere the script says which it left out and why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)


def test_data_stages_reproduce_the_committed_lock(tmp_path: Path, git_copy) -> None:  # noqa: ANN001
    dst = git_copy(tmp_path / "politune")
    p = _run(["dvc", "repro", "synthesize"], dst)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    check = _run([sys.executable, "scripts/repro_check.py"], dst)
    print(check.stdout)
    assert check.returncode == 0, f"dvc.lock not reproduced:\n{check.stdout}\n{check.stderr}"
    assert "synthesize:" in check.stdout and "ingest: 3 output(s) identical" in check.stdout
    if "not compared" in check.stdout:
        warnings.warn("float stages not compared (another machine's numerics): " + check.stdout, stacklevel=1)
    # the check bites: an output changed after its stage ran is named, with the stage
    selected = dst / "data" / "processed" / "selected.jsonl"
    selected.write_text(selected.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    bad = _run([sys.executable, "scripts/repro_check.py"], dst)
    assert bad.returncode == 1 and "NOT REPRODUCED: select: data/processed/selected.jsonl" in bad.stderr, (
        bad.stdout + bad.stderr
    )
