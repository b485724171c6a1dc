"""Did this checkout's data stages reproduce the committed dvc.lock? Run after `dvc repro synthesize` (or a whole
`dvc repro`) in a clean clone:

    python scripts/repro_check.py                 # compare ./dvc.lock with the committed one (git HEAD)
    python scripts/repro_check.py --ref OTHER.lock

Walks the data stages in pipeline order (base_model, ingest, annotate, select, synthesize) and, for each output,
compares its hash in the workspace's dvc.lock with the reference; `dvc status` also catches an output changed
after the run. Exit 0 when every output matches; exit 1 naming the first stage and output that differ.

What can differ for a reason other than a bug: stages that compute with floats reproduce bitwise only on a
machine that computes the same bits (data/check/numerics.json, written by the check stage: torch version, kernels
chosen for this CPU, threads). When this machine's fingerprint differs from the reference's, those stages are
not compared and the script says so (exit 0 with the reason; docs/reliability.md); base_model and ingest, which
compute no floats, are compared everywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import yaml

DATA_STAGES = ("base_model", "ingest", "annotate", "select", "synthesize")
FLOAT_STAGES = ("annotate", "select", "synthesize")  # compute with floats (a model, numpy, scikit-learn)
NUMERICS = "data/check/numerics.json"


def outs(lock: dict[str, Any], stage: str) -> dict[str, str]:
    return {o["path"]: o.get("md5", "") for o in lock["stages"].get(stage, {}).get("outs", [])}


def stages_of(lock: dict[str, Any], group: str) -> list[str]:
    """`base_model` -> every `base_model@<key>` (foreach stages), else the stage itself."""
    return sorted(s for s in lock["stages"] if s == group or s.startswith(group + "@"))


def compare(
    ref: dict[str, Any], new: dict[str, Any], modified: dict[str, set[str]]
) -> tuple[list[str], str | None]:
    """(lines saying what matched or was skipped, the first difference or None)."""
    lines: list[str] = []
    numerics_ref, numerics_new = outs(ref, "check").get(NUMERICS), outs(new, "check").get(NUMERICS)
    for group in DATA_STAGES:
        for stage in stages_of(ref, group):
            if stage not in new["stages"]:
                return lines, f"{stage}: not run here (run `dvc repro synthesize` first)"
            if group in FLOAT_STAGES and numerics_ref != numerics_new:
                lines.append(
                    f"{stage}: not compared: this machine computes other float bits than the reference run "
                    f"({NUMERICS} differs: {numerics_new} here, {numerics_ref} there)"
                )
                continue
            for path, md5 in outs(ref, stage).items():
                got = outs(new, stage).get(path)
                if got != md5:
                    return lines, f"{stage}: {path} differs from the reference (md5 {got}, reference {md5})"
                if path in modified.get(stage, set()):
                    return lines, f"{stage}: {path} was changed after the stage ran (`dvc status {stage}`)"
            lines.append(f"{stage}: {len(outs(ref, stage))} output(s) identical")
    return lines, None


def modified_outputs(root: Path) -> dict[str, set[str]]:
    """Per stage, the outputs in the workspace that differ from what dvc.lock records (`dvc status`)."""
    p = subprocess.run(["dvc", "status", "--json"], cwd=root, capture_output=True, text=True, check=False)
    try:
        status = json.loads(p.stdout or "{}")
    except json.JSONDecodeError:
        return {}
    out: dict[str, set[str]] = {}
    for stage, changes in status.items():
        for change in changes:
            if isinstance(change, dict) and isinstance(change.get("changed outs"), dict):
                out.setdefault(stage, set()).update(change["changed outs"])
    return out


@click.command()
@click.option("--ref", default=None, help="Reference lock file (default: dvc.lock as committed at git HEAD).")
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path))
def main(ref: str | None, root: Path) -> None:
    if ref:
        ref_lock = yaml.safe_load(Path(ref).read_text(encoding="utf-8"))
    else:
        text = subprocess.run(
            ["git", "show", "HEAD:dvc.lock"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
        ref_lock = yaml.safe_load(text)
    new_lock = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))
    lines, problem = compare(ref_lock, new_lock, modified_outputs(root))
    for line in lines:
        click.echo(line)
    if problem:
        click.echo(f"NOT REPRODUCED: {problem}", err=True)
        sys.exit(1)
    click.echo("reproduced: every compared data-stage output equals the reference")


if __name__ == "__main__":
    main()
