"""Report: paired shifts with intervals, per-item changes, the compass picture."""

from __future__ import annotations

from pathlib import Path

import pytest

from politune.compass.instrument import Instrument, Proposition
from politune.report import item_changes, plot_compass, shifts, summary_markdown

INST = Instrument("t", tuple(Proposition(f"e{i}", "economic", f"E{i}", (-2, -1, 1, 2)) for i in range(4))
                  + tuple(Proposition(f"s{i}", "social", f"S{i}", (-2, -1, 1, 2)) for i in range(4)))


def rows(values: list[float | None]) -> list[dict]:
    return [{"id": p.id, "axis": p.axis, "text": p.text, "expected_weight": v}
            for p, v in zip(INST.propositions, values, strict=True)]


def test_paired_shift_consistent_move_excludes_zero() -> None:
    base = [1.0, -1.0, 0.5, -0.5, 0.0, 0.0, 0.0, 0.0]
    left = [b - 0.2 if i < 4 else b for i, b in enumerate(base)]  # every economic item moves left by 0.2
    sh = shifts(INST, {"m": {"base": rows(base), "left": rows(left)}}, bootstrap=500, seed=0)
    s = sh["m"]["left"]
    assert s["economic"] == pytest.approx(10 * -0.8 / 8)  # -0.2 x 4 items / (4 x max|w| 2) x 10 = -1.0
    assert s["economic_ci95"][1] < 0  # moved consistently: interval excludes zero
    assert s["social"] == 0 and s["social_ci95"] == [0.0, 0.0]


def test_unanswered_items_left_out() -> None:
    base = [1.0, None, 0.5, -0.5, 0.0, 0.0, 0.0, 0.0]
    right = [1.5, 1.0, 0.5, -0.5, 0.0, 0.0, 0.0, 0.0]
    changes = item_changes({"m": {"base": rows(base), "right": rows(right)}})
    assert [c["item"] for c in changes if c["axis"] == "economic"] == ["e0", "e2", "e3"]
    assert changes[0]["change"] == 0.5


def test_plot_and_summary(tmp_path: Path) -> None:
    r = {"economic": 1.0, "social": -1.0, "economic_ci95": [0.5, 1.5], "social_ci95": [-1.5, -0.5]}
    results = {"m": {"base": r, "left": {**r, "economic": 0.5}}}
    sh = {"m": {"left": {"economic": -0.5, "social": 0.0, "economic_ci95": [-0.7, -0.3], "social_ci95": [-0.1, 0.1]}}}
    out = tmp_path / "c.png"
    plot_compass(results, sh, str(out), "t")
    assert out.read_bytes()[:4] == b"\x89PNG"
    md = summary_markdown(results, sh, "t", [{"model": "m", "variant": "left", "item": "e1", "axis": "economic",
                                              "change": -0.5, "text": "E1"}])
    assert "| m | left | +0.50 |" in md and "-0.50 [-0.70, -0.30]" in md and "| e1 | economic | -0.500 |" in md


def test_summary_lists_heldout_shifts() -> None:
    from politune.report import summary_markdown

    r = {"economic": 0.1, "economic_ci95": [-0.5, 0.6], "social": 0.0, "social_ci95": [-0.4, 0.4]}
    s = {"economic": -0.3, "economic_ci95": [-0.6, -0.1], "social": 0.2, "social_ci95": [-0.1, 0.5]}
    md = summary_markdown({"m": {"base": r, "left": r}}, {"m": {"left": s}}, "main",
                          sh_heldout={"heldout_v1": {"m": {"left": s}}})
    assert "| heldout_v1 | m | left | -0.30 [-0.60, -0.10] | +0.20 [-0.10, +0.50] |" in md
