"""A working copy of the repository for a whole-pipeline run (the end-to-end tests, scripts/gpu_check.py): its
git-tracked and untracked-but-not-ignored files, without results (metrics/, reports/, timings/) or anything DVC
caches, committed to a fresh git repository, ready for `dvc repro`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = ("metrics/", "reports/", "timings/")


def copy_repository(dst: Path, src: Path = REPO) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=src, capture_output=True, text=True, check=True
    ).stdout.split()
    for f in files:
        if (src / f).is_file() and not f.startswith(RESULTS):
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / f, dst / f)
    git = ["git", "-c", "user.name=politune", "-c", "user.email=politune@localhost"]
    for cmd in (["git", "init", "-q"], [*git, "add", "-A"], [*git, "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dst, check=True, capture_output=True)
    return dst
