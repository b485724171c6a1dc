"""Shared by the stage commands: logging, params loading with a readable error, one-line errors."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from politune.io import disk_full_errno, disk_full_message
from politune.params import Params, ParamsError, load_params
from politune.timings import write_metrics

__all__ = ["PARAMS_OPTION", "get_params", "stage", "write_metrics"]

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
    """Wrap a stage body: logging, its wall time logged, clean one-line errors for known failures
    (POLITUNE_DEBUG=1 shows the traceback)."""

    def deco(fn: Callable[..., dict[str, Any] | None]) -> Callable[..., None]:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            setup_logging()
            t0 = time.time()
            try:
                fn(*args, **kwargs)
            except KeyboardInterrupt:  # atomic_path removed the temporaries
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
                    click.echo(f"error in stage {name}: {disk_full_message(e, n)}", err=True)
                    sys.exit(1)
                if not isinstance(e, ValueError | FileNotFoundError | RuntimeError):
                    raise
                click.echo(f"error in stage {name}: {e}", err=True)
                sys.exit(1)
            logging.getLogger(f"stages.{name}").info("stage %s done in %.1f s", name, time.time() - t0)

        return run

    return deco
