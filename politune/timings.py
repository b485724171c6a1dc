"""Metrics and timings kept apart: times and rates vary run to run, so they go to timings/ (a local run log, in
neither git nor DVC), and the metrics that `dvc metrics diff` compares hold science only. Each timings file also
records the run's environment (politune.numerics.environment: dtype, CPU and vector extensions, torch version and
kernels), what to read first when two runs of the same inputs differ."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from politune.io import write_json


def split_timings(metrics: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(science, timings): every key naming seconds or a rate per second, at any depth, moves to the timings
    side, keeping its path."""
    science: dict[str, Any] = {}
    timings: dict[str, Any] = {}
    for k, v in metrics.items():
        if "seconds" in k or k.endswith("per_second"):
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
    """The metrics to `path`; their timings (wall_seconds since `started` and every `*seconds*` key) and the
    environment (with the metrics' `dtype`, if they name one) to timings/."""
    from politune.numerics import environment

    science, timings = split_timings(metrics)
    write_json(path, science)
    write_json(
        timings_path(path),
        {
            **timings,
            "wall_seconds": round(time.time() - started, 1),
            "environment": environment(metrics.get("dtype")),
        },
    )
