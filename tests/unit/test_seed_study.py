"""scripts/seed_study.py's tables of every measure and of the bar over seeds (pure functions; no dvc)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from politune.report import BAR_MEASURES

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("seed_study", REPO / "scripts" / "seed_study.py")
assert _spec is not None and _spec.loader is not None
seed_study = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seed_study)

PREF, OPEN = BAR_MEASURES
MAIN = {"paired_v1", "questions_v1"}
SIDES = {"left": "left", "right": "right"}


def shift(lo: float, hi: float) -> dict[str, Any]:
    return {
        "economic": round((lo + hi) / 2, 4),
        "economic_ci95": [lo, hi],
        "social": 0.0,
        "social_ci95": [0.0, 0.0],
    }


LEFT, RIGHT, NULL = shift(-0.3, -0.1), shift(0.1, 0.3), shift(-0.1, 0.1)


def report(right_open_heldout: dict[str, Any] = RIGHT) -> dict[str, Any]:
    """A metrics/report.json of one model `m` whose left and right adapters move as they should, both from base
    and from the control `shuffled`, on every measure and set (the right one on the held-out questions as given)."""

    def sets(s: dict[str, Any], held_open: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            PREF: {"paired_v1": s, "paired_heldout_v1": s},
            OPEN: {"questions_v1": s, "questions_heldout_v1": held_open or s},
        }

    return {
        "shift_from_base": {"m": {"left": LEFT, "right": RIGHT, "shuffled": NULL}},
        "shift_from_base_heldout": {"heldout_v1": {"m": {"left": LEFT, "right": RIGHT, "shuffled": NULL}}},
        "shift_from_control": {
            "shuffled": {
                "politune_v1": {"m": {"left": LEFT, "right": RIGHT}},
                "heldout_v1": {"m": {"left": LEFT, "right": RIGHT}},
            }
        },
        "side": {
            "p_right": {},
            "shift_from_base": {
                "m": {"left": sets(LEFT), "right": sets(RIGHT, right_open_heldout), "shuffled": sets(NULL)}
            },
            "shift_from_control": {
                "shuffled": {"m": {"left": sets(LEFT), "right": sets(RIGHT, right_open_heldout)}}
            },
        },
    }


def test_by_measure_rows_one_per_measure_set_and_ideology() -> None:
    rows = seed_study.by_measure_rows(7, report(), "politune_v1", MAIN, SIDES, ["shuffled"])
    # 2 Likert instruments + 2 measures x 2 sets, each x 3 ideologies
    assert len(rows) == 6 * 3
    by_key = {(r["measure"], r["set"], r["ideology"]): r for r in rows}
    r = by_key[(PREF, "paired_heldout_v1", "left")]
    assert r == {
        "seed": 7,
        "model": "m",
        "measure": PREF,
        "set": "paired_heldout_v1",
        "main": False,
        "ideology": "left",
        "economic": -0.2,
        "economic_ci95": [-0.3, -0.1],
        "from_shuffled_economic": -0.2,
        "from_shuffled_economic_ci95": [-0.3, -0.1],
    }
    assert by_key[("Likert politune_v1", "politune_v1", "right")]["main"]
    assert not by_key[("Likert heldout_v1", "heldout_v1", "right")]["main"]
    control = by_key[(OPEN, "questions_v1", "shuffled")]
    assert (
        control["main"] and "from_shuffled_economic" not in control
    )  # the control's own shift from base only


def test_a_likert_only_report_has_likert_rows_and_misses_the_bar() -> None:
    rep = {k: v for k, v in report().items() if k != "side"}
    rows = seed_study.by_measure_rows(0, rep, "politune_v1", MAIN, SIDES, ["shuffled"])
    assert {r["measure"] for r in rows} == {"Likert politune_v1", "Likert heldout_v1"}
    bar = seed_study.report_bar(rep, "politune_v1", MAIN, SIDES, ["shuffled"])
    assert not bar["met"] and f"m: {PREF} (not measured)" in bar["missing"]


def test_bar_over_seeds_two_of_three() -> None:
    touching = shift(0.0, 0.2)  # the right adapter's interval touches 0 on the held-out questions
    reports = {0: report(), 1: report(touching), 2: report()}
    bars = [
        (s, seed_study.report_bar(r, "politune_v1", MAIN, SIDES, ["shuffled"])) for s, r in reports.items()
    ]
    assert [b["met"] for _, b in bars] == [True, False, True]
    out = seed_study.bar_over_seeds(bars)
    assert out["seeds"] == 3 and out["seeds_meeting_bar"] == 2 and out["bar_met"]
    assert out["per_seed"][1] == {"seed": 1, "met": False, "missing": []}
    assert not seed_study.bar_over_seeds(bars[1:])["bar_met"]  # 1 of 2
    assert not seed_study.bar_over_seeds([])["bar_met"]
    json.dumps(out)
    rows = seed_study.sort_by_measure(
        [
            r
            for s, rep in reports.items()
            for r in seed_study.by_measure_rows(s, rep, "politune_v1", MAIN, SIDES, ["shuffled"])
        ]
    )
    assert [r["measure"] for r in rows[:9]] == ["Likert politune_v1"] * 9  # the main instrument first
    assert [r["seed"] for r in rows[:3]] == [0, 1, 2]  # a cell's seeds side by side
    md = seed_study.by_measure_markdown(rows, ["shuffled"], out)
    assert md[0] == (
        "| model | measure | set | ideology | seed | econ from base [95% CI] | econ from shuffled [95% CI] |"
    )
    assert (
        f"| m | {OPEN} | questions_heldout_v1 (held-out) | right | 1 | +0.100 [+0.000, +0.200] "
        "| +0.100 [+0.000, +0.200] |" in md
    )
    assert "| m | Likert politune_v1 | politune_v1 | shuffled | 0 | +0.000 [-0.100, +0.100] | - |" in md
    assert md[-1].startswith("bar met in 2 of 3 seeds: yes")
