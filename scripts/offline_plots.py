"""Offline `dvc plots show`. DVC's HTML page loads vega, vega-lite and vega-embed from a CDN, so on a machine
without internet (like the ones this project targets) the training curves render blank. This fetches the three
packages once from the npm registry (the versions DVC's page names, pinned by sha256), inlines their minified
scripts into an HTML template, and points DVC at it (`plots.html_template` in the git-ignored
.dvc/config.local): every page `dvc plots show` writes after that is self-contained and draws offline.

    python scripts/offline_plots.py        # `make setup` runs it; needs `npm` once, to download

Without npm it says so and changes nothing (pages then load the scripts from the CDN, as DVC's default does).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / ".dvc" / "plots"  # git-ignored
TEMPLATE = FOLDER / "offline.html"
# (package, version, script inside the tarball, sha256 of the tarball from registry.npmjs.org)
PACKAGES = [
    (
        "vega",
        "5.20.2",
        "package/build/vega.min.js",
        "d77deab01d6104b1239228720721f93003e60797d2faced7ffdd759fa70f989d",
    ),
    (
        "vega-lite",
        "5.2.0",
        "package/build/vega-lite.min.js",
        "f64ca4745f043447ac86b67dc9e9592ec2b85ac8b8dafc35faf970f142463e4b",
    ),
    (
        "vega-embed",
        "6.18.2",
        "package/build/vega-embed.min.js",
        "93aeee312e92077b0252ef026c0fe0ec8fa430c19825aeada6cd3a6804e68e1b",
    ),
]
# DVC's page (dvc_render.html.PAGE_HTML) with the CDN <script> tags replaced by the inlined scripts
PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <title>DVC Plot</title>
    <!-- vega, vega-lite and vega-embed inlined by scripts/offline_plots.py: this page needs no network -->
    INLINED_SCRIPTS
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def tarball(name: str, version: str, sha256: str) -> Path:
    """The package's tarball in FOLDER, downloaded with `npm pack` if missing; its sha256 checked."""
    path = FOLDER / f"{name}-{version}.tgz"
    if not path.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise FileNotFoundError("npm not found")
        subprocess.run(
            [npm, "pack", f"{name}@{version}", "--pack-destination", str(FOLDER), "--silent"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    got = hashlib.sha256(path.read_bytes()).hexdigest()
    if got != sha256:
        path.unlink()
        raise ValueError(f"{path.name}: sha256 {got}, expected {sha256} (deleted; rerun to download again)")
    return path


def build() -> Path:
    FOLDER.mkdir(parents=True, exist_ok=True)
    scripts = []
    for name, version, member, sha256 in PACKAGES:
        with tarfile.open(tarball(name, version, sha256)) as tf:
            f = tf.extractfile(member)
            if f is None:
                raise ValueError(f"{name}-{version}.tgz has no {member}")
            js = f.read().decode("utf-8")
        if "</script" in js.lower():
            raise ValueError(f"{name}: its script contains '</script', it cannot be inlined")
        scripts.append(f"<script>/* {name} {version} (BSD-3-Clause) */\n{js}\n</script>")
    tmp = TEMPLATE.with_suffix(".tmp")
    tmp.write_text(PAGE.replace("INLINED_SCRIPTS", "\n".join(scripts)), encoding="utf-8")
    tmp.replace(TEMPLATE)
    return TEMPLATE


def main() -> int:
    try:
        path = build()
    except (FileNotFoundError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        print(f"offline plots: skipped ({e}); `dvc plots show` pages load vega from a CDN", file=sys.stderr)
        return 0
    except ValueError as e:
        print(f"offline plots: {e}", file=sys.stderr)
        return 1
    # relative to .dvc/, as DVC resolves plots.html_template
    subprocess.run(
        [sys.executable, "-m", "dvc", "config", "--local", "plots.html_template", "plots/offline.html"],
        cwd=REPO,
        check=True,
    )
    print(
        f"offline plots: {path.relative_to(REPO)} ({path.stat().st_size / 2**20:.1f} MiB) is DVC's page template"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
