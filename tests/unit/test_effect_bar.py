"""The bar (politune.report.effect_bar): left below 0 and right above 0, from base and from the control, on the
economic axis, on the main and held-out sets of the paired-statement preference and open-ended measures."""

from __future__ import annotations

import json
from typing import Any

from politune.report import BAR_CHECKS, BAR_MEASURES, bar_markdown, effect_bar

PREF, OPEN = BAR_MEASURES
SETS = {PREF: ("paired_v1", "paired_heldout_v1"), OPEN: ("questions_v1", "questions_heldout_v1")}
MAIN = {"paired_v1", "questions_v1"}
SIDES = {"left": "left", "right": "right"}


def shift(lo: float, hi: float) -> dict[str, Any]:
    """An item_shift dict with this economic interval (social is irrelevant to the bar)."""
    return {"economic": (lo + hi) / 2, "economic_ci95": [lo, hi], "social": 0.0, "social_ci95": [-0.1, 0.1]}


LEFT, RIGHT, NULL = shift(-0.3, -0.1), shift(0.1, 0.3), shift(-0.1, 0.1)


def side(variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """[model][variant][label][set] with the same shift on every measure and set."""
    return {
        "m": {v: {label: dict.fromkeys(sets, s) for label, sets in SETS.items()} for v, s in variants.items()}
    }


def pieces(**over: Any) -> dict[str, Any]:
    """effect_bar's arguments for a run that meets the bar; `over` replaces some."""
    args = {
        "side_base": side({"left": LEFT, "right": RIGHT, "shuffled": NULL}),
        "side_control": {"shuffled": side({"left": LEFT, "right": RIGHT})},
        "sh": {"m": {"left": LEFT, "right": RIGHT, "shuffled": NULL}},
        "sh_heldout": {"heldout_v1": {"m": {"left": LEFT, "right": NULL, "shuffled": NULL}}},
        "sh_control": {
            "shuffled": {
                "politune_v1": {"m": {"left": LEFT, "right": RIGHT}},
                "heldout_v1": {"m": {"left": LEFT, "right": NULL}},
            }
        },
        "main_sets": MAIN,
        "sides": SIDES,
        "controls": ["shuffled"],
        "instrument": "politune_v1",
    }
    return {**args, **over}


def test_a_run_that_meets_the_bar() -> None:
    bar = effect_bar(**pieces())
    assert bar["met"] and bar["missing"] == []
    m = bar["models"]["m"]
    assert m["met"]
    assert list(m["side"][PREF]) == ["paired_v1", "paired_heldout_v1"]  # main set first
    assert m["side"][PREF]["paired_v1"] == {"main": True, **dict.fromkeys(BAR_CHECKS, True), "met": True}
    assert m["side"][OPEN]["questions_heldout_v1"]["main"] is False
    # Likert is reported the same way, and does not count: the held-out right adapter did not move
    assert m["likert"]["politune_v1"]["met"] and m["likert"]["politune_v1"]["main"]
    assert not m["likert"]["heldout_v1"]["met"] and m["likert"]["heldout_v1"]["right_above_base"] is False
    json.dumps(bar)  # JSON-able
    md = bar_markdown(bar)
    assert md[0] == "## The bar" and "Bar met: yes" in md
    assert f"| {PREF} | paired_heldout_v1 (held-out) | yes | yes | yes | yes | yes |" in md
    assert "| Likert (not in the bar) | heldout_v1 (held-out) | yes | no | yes | no | no |" in md


def test_an_interval_touching_zero_fails() -> None:
    base = side({"left": LEFT, "right": RIGHT})
    base["m"]["right"][OPEN]["questions_heldout_v1"] = shift(0.0, 0.2)  # touches 0: not entirely above it
    bar = effect_bar(**pieces(side_base=base))
    assert not bar["met"] and bar["missing"] == []
    checks = bar["models"]["m"]["side"][OPEN]["questions_heldout_v1"]
    assert checks["right_above_base"] is False and checks["right_above_control"] is True and not checks["met"]
    assert bar["models"]["m"]["side"][OPEN]["questions_v1"]["met"]
    assert "Bar met: no" in bar_markdown(bar)


def test_a_choice_measure_is_checked_but_not_required() -> None:
    base = side({"left": LEFT, "right": RIGHT})
    base["m"]["left"]["paired statements, A/B choice"] = {"paired_v1": NULL}
    bar = effect_bar(**pieces(side_base=base))
    assert bar["met"]
    assert (
        bar["models"]["m"]["side"]["paired statements, A/B choice"]["paired_v1"]["left_below_base"] is False
    )


def test_no_control_arm_is_missing_not_an_error() -> None:
    bar = effect_bar(**pieces(side_control={}, sh_control={}, controls=[]))
    assert not bar["met"]
    assert bar["missing"] == ["a control arm (an ideology with control_of)"]
    checks = bar["models"]["m"]["side"][PREF]["paired_v1"]
    assert checks["left_below_base"] is True and checks["left_below_control"] is None and not checks["met"]
    md = bar_markdown(bar)
    assert "Bar met: no" in md and any(line.startswith("Missing for the bar: a control arm") for line in md)
    assert f"| {PREF} | paired_v1 | yes | yes | n/a | n/a | no |" in md


def test_a_measure_off_or_a_set_missing() -> None:
    base = side({"left": LEFT, "right": RIGHT})
    for v in base["m"].values():
        del v[OPEN]  # open-ended measure off
        del v[PREF]["paired_heldout_v1"]
    bar = effect_bar(**pieces(side_base=base, side_control={}))
    assert not bar["met"]
    assert f"m: {OPEN} (not measured)" in bar["missing"] and f"m: {PREF}: no held-out set" in bar["missing"]
    assert f"m: {PREF} / paired_v1: left_below_control" in bar["missing"]


def test_a_likert_only_run() -> None:
    bar = effect_bar(**pieces(side_base={}, side_control={}))
    assert not bar["met"] and bar["missing"] == [f"m: {PREF} (not measured)", f"m: {OPEN} (not measured)"]
    assert bar["models"]["m"]["likert"]["politune_v1"]["met"]
    assert effect_bar(**pieces(side_base={}, side_control={}, sh={}, sh_heldout={}))["missing"] == [
        "shifts of any model"
    ]
