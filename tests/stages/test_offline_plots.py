"""`dvc plots show` draws offline: a page written with the template of scripts/offline_plots.py, opened in
headless Chromium with every host unresolvable, has drawn its chart; DVC's default page, which loads vega from a
CDN, has not. Skipped, with the reason, without Chromium (Debian: apt-get install chromium) or without the
template (setup builds it; it needs npm once)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / ".dvc" / "plots" / "offline.html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (Debian: apt-get install chromium)"),
    pytest.mark.skipif(
        not TEMPLATE.exists(), reason=f"{TEMPLATE} missing: run python scripts/offline_plots.py"
    ),
]


def page(repo: Path, out: str, template: Path | None) -> Path:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    cmd = ["dvc", "plots", "show", "curve.json", "-x", "step", "-y", "loss", "-o", out]
    if template is not None:
        cmd += ["--html-template", str(template)]
    subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=120)
    return repo / out / "index.html"


def dom_offline(html: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran, with no host reachable (every name resolves to nothing)."""
    p = subprocess.run(
        [
            str(CHROMIUM),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_plots_draw_offline_with_the_template(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=repo, env=env, check=True)
    (repo / "curve.json").write_text(json.dumps([{"step": i, "loss": 1.0 / (i + 1)} for i in range(20)]))
    offline = dom_offline(page(repo, "offline", TEMPLATE), tmp_path / "p1")
    default = dom_offline(page(repo, "default", None), tmp_path / "p2")
    assert "cdn.jsdelivr.net" in (repo / "default" / "index.html").read_text()  # the problem this fixes
    assert "cdn.jsdelivr.net" not in (repo / "offline" / "index.html").read_text()
    # vega-embed draws into a canvas inside a div of class vega-embed; without its scripts nothing is drawn
    assert "vega-embed" in offline and "<canvas" in offline, offline[-2000:]
    assert "<canvas" not in default
