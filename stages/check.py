"""Stage check: the preflight that every other stage depends on, so it runs first under any `dvc repro` or
`dvc exp run`.

    python -m stages.check
Outputs (both `persist`: DVC does not delete them before this stage runs, and a failed check leaves them as they
were):
- data/check/params.ok: the same one line whenever params.yaml is valid. Every stage depends on it, so a bad
  value (`dvc exp run -S train.epochs=-1`) or a misspelt key stops the run here, before DVC removes any other
  stage's outputs; a good change leaves the file byte-identical, so it reruns nothing by itself.
- data/check/numerics.json: what decides this machine's floating-point bits (politune.numerics.fingerprint), so
  dvc.lock records which kind of machine made the run; scripts/repro_check.py compares float stages only between
  runs whose fingerprints match. No stage depends on it: a teammate on another CPU pulls the results rather than
  recomputing them (docs/team.md). Neither file is in git, so a fresh clone writes its own (in a second or two).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from politune.io import atomic_path
from politune.numerics import fingerprint
from politune.params import ParamsError, load_params
from stages._common import PARAMS_OPTION, setup_logging

PARAMS_OK = Path("data/check/params.ok")
NUMERICS = Path("data/check/numerics.json")


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@click.command()
@PARAMS_OPTION
def main(params_path: str) -> None:
    setup_logging()
    try:
        load_params(params_path)
    except ParamsError as e:
        click.echo(f"error: {e}", err=True)
        click.echo(
            f"error in stage check: nothing was run and no output was touched; fix {params_path} "
            "(`git checkout params.yaml` undoes a `dvc exp run -S`) and run again",
            err=True,
        )
        sys.exit(2)
    _write_if_changed(PARAMS_OK, f"{params_path}: valid\n")
    _write_if_changed(NUMERICS, json.dumps(fingerprint(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
