"""Timings stay out of the DVC metrics; the stage time table reads them back; CLI errors are one line, exit 2."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from politune.cli import main as cli
from politune.timings import split_timings, write_metrics

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import stage_times  # noqa: E402


def test_split_timings_moves_every_seconds_key_keeping_its_path() -> None:
    science, timings = split_timings(
        {
            "economic": -0.1,
            "seconds": 3.0,
            "paired": {"p_right": 0.5, "seconds": 2.0, "deep": {"train_seconds": 1}},
            "openended": {"answers": 10},
            "counts": {"pairs": 3, "pairs_per_second": 555.4},  # a rate varies run to run too
        }
    )
    assert science == {
        "economic": -0.1,
        "paired": {"p_right": 0.5},
        "openended": {"answers": 10},
        "counts": {"pairs": 3},
    }
    assert timings == {
        "seconds": 3.0,
        "paired": {"seconds": 2.0, "deep": {"train_seconds": 1}},
        "counts": {"pairs_per_second": 555.4},
    }


def test_write_metrics_puts_wall_time_beside_not_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_metrics("metrics/evaluate/m-left.json", {"economic": 0.2, "seconds_per_step": 4.0}, time.time() - 5)
    assert json.loads(Path("metrics/evaluate/m-left.json").read_text()) == {"economic": 0.2}
    t = json.loads(Path("timings/evaluate/m-left.json").read_text())
    assert t["seconds_per_step"] == 4.0 and 4.5 < t["wall_seconds"] < 60


def test_stage_times_names_and_orders_stages(tmp_path: Path) -> None:
    for rel, secs in [
        ("report.json", 3),
        ("train/m-left.json", 300),
        ("evaluate/m-base.json", 100),
        ("evaluate/m-left.json", 110),
        ("ingest.json", 1),
    ]:
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps({"wall_seconds": secs}))
    assert stage_times.rows(tmp_path) == [
        ("ingest", 1.0),
        ("train@m-left", 300.0),
        ("evaluate_base@m", 100.0),
        ("evaluate@m-left", 110.0),
        ("report", 3.0),
    ]
    out = CliRunner().invoke(stage_times.main, ["--root", str(tmp_path)])
    assert out.exit_code == 0 and "| **total** | **514** |" in out.output


def test_cli_error_is_one_line_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,axis\nx,y\n")
    model = tmp_path / "model"
    model.mkdir()
    r = CliRunner().invoke(
        cli, ["compass", "--model", str(model), "--instrument", str(bad), "--out", str(tmp_path / "o.json")]
    )
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and str(bad) in lines[0] and "Traceback" not in r.output
