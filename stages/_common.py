"""Shared by the stage commands: logging, params loading with a readable error, timing, metrics."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from politune.io import disk_full_errno, write_json
from politune.params import Params, ParamsError, load_params

PARAMS_OPTION = click.option(
    "--params",
    "params_path",
    default="params.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Parameters file (validated once, up front).",
)


def setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("POLITUNE_LOG", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("httpx", "urllib3", "filelock", "datasets", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_params(path: str) -> Params:
    try:
        return load_params(path)
    except ParamsError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


def stage(name: str) -> Callable[[Callable[..., dict[str, Any] | None]], Callable[..., None]]:
    """Wrap a stage body: logging, wall time into its metrics, clean one-line errors for known failures."""

    def deco(fn: Callable[..., dict[str, Any] | None]) -> Callable[..., None]:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            setup_logging()
            log = logging.getLogger(f"stages.{name}")
            t0 = time.time()
            try:
                fn(*args, **kwargs)
            except KeyboardInterrupt:
                # atomic_path removed the temporaries: no half-written file reached an output's name
                click.echo(
                    f"error in stage {name}: interrupted after {time.time() - t0:.0f} s; no half-written "
                    "file reached an output's name (finished annotation chunks and training checkpoints "
                    "are kept); rerun `dvc repro` to continue",
                    err=True,
                )
                sys.exit(130)
            except Exception as e:
                if os.environ.get("POLITUNE_DEBUG"):
                    raise
                if n := disk_full_errno(e):
                    where = (
                        e.filename
                        if isinstance(e, OSError) and e.filename
                        else (
                            f"(the system did not say which file; {shutil.disk_usage('.').free / 2**20:.1f} MiB free "
                            f"under {Path.cwd()})"
                        )
                    )
                    click.echo(
                        f"error in stage {name}: out of disk space writing {where}: "
                        f"{e.strerror if isinstance(e, OSError) and e.strerror else os.strerror(n)}. No "
                        "half-written file reached an output's name and earlier stages' outputs are intact; "
                        "free space (or raise the file-size limit, `ulimit -f`) and rerun `dvc repro`",
                        err=True,
                    )
                    sys.exit(1)
                if not isinstance(e, ValueError | FileNotFoundError | RuntimeError):
                    raise
                click.echo(f"error in stage {name}: {e}", err=True)
                sys.exit(1)
            log.info("stage %s done in %.1f s", name, time.time() - t0)

        return run

    return deco


def split_timings(metrics: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(science, timings): every key naming seconds or a rate per second, at any depth, moves to the timings side,
    keeping its path.
    Timings vary run to run; kept out of the DVC metrics, `dvc metrics diff` of two runs shows science only."""
    science: dict[str, Any] = {}
    timings: dict[str, Any] = {}
    for k, v in metrics.items():
        if "seconds" in k or k.endswith("per_second"):  # times and rates vary run to run
            timings[k] = v
        elif isinstance(v, dict):
            sci, tim = split_timings(v)
            if sci or not v:  # a dict that held only timings leaves no empty trace
                science[k] = sci
            if tim:
                timings[k] = tim
        else:
            science[k] = v
    return science, timings


def timings_path(metrics_path: str | Path) -> Path:
    """metrics/evaluate/x.json -> timings/evaluate/x.json (a plain stage output, not a DVC metric)."""
    return Path("timings") / Path(metrics_path).relative_to("metrics")


def write_metrics(path: str | Path, metrics: dict[str, Any], started: float) -> None:
    """The stage's metrics to `path`; its timings (wall_seconds and every `*seconds*` key) to timings/."""
    science, timings = split_timings(metrics)
    write_json(path, science)
    write_json(timings_path(path), {**timings, "wall_seconds": round(time.time() - started, 1)})
