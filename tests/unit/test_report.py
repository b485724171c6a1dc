"""Report: paired shifts with intervals, per-item changes, the compass picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from politune.compass.instrument import Instrument, Proposition
from politune.compass.score import axis_coordinate, paired_shift
from politune.params import EvaluateParams, IdeologySpec
from politune.report import ReportInputs, build_report, item_changes, plot_compass, shifts, summary_markdown

INST = Instrument(
    "t",
    tuple(Proposition(f"e{i}", "economic", f"E{i}", (-2, -1, 1, 2)) for i in range(4))
    + tuple(Proposition(f"s{i}", "social", f"S{i}", (-2, -1, 1, 2)) for i in range(4)),
)


def rows(values: list[float | None]) -> list[dict]:
    return [
        {"id": p.id, "axis": p.axis, "text": p.text, "expected_weight": v}
        for p, v in zip(INST.propositions, values, strict=True)
    ]


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
    sh = {
        "m": {
            "left": {
                "economic": -0.5,
                "social": 0.0,
                "economic_ci95": [-0.7, -0.3],
                "social_ci95": [-0.1, 0.1],
            }
        }
    }
    out = tmp_path / "c.png"
    plot_compass(results, sh, str(out), "t")
    assert out.read_bytes()[:4] == b"\x89PNG"
    md = summary_markdown(
        results,
        sh,
        "t",
        [{"model": "m", "variant": "left", "item": "e1", "axis": "economic", "change": -0.5, "text": "E1"}],
    )
    assert (
        "| m | left | +0.50 |" in md and "-0.50 [-0.70, -0.30]" in md and "| e1 | economic | -0.500 |" in md
    )


def test_summary_lists_heldout_shifts() -> None:
    from politune.report import summary_markdown

    r = {"economic": 0.1, "economic_ci95": [-0.5, 0.6], "social": 0.0, "social_ci95": [-0.4, 0.4]}
    s = {"economic": -0.3, "economic_ci95": [-0.6, -0.1], "social": 0.2, "social_ci95": [-0.1, 0.5]}
    md = summary_markdown(
        {"m": {"base": r, "left": r}},
        {"m": {"left": s}},
        "main",
        sh_heldout={"heldout_v1": {"m": {"left": s}}},
    )
    assert "| heldout_v1 | m | left | -0.30 [-0.60, -0.10] | +0.20 [-0.10, +0.50] |" in md


def test_stratified_interval_separates_acquiescence_from_view() -> None:
    """An adapter that agrees more with everything (acquiescence) and moves a little left on every item.
    Items e0, e1 are right-keyed (agree = right), e2, e3 left-keyed (weights reversed). Resampling within
    keying keeps the instrument balanced, so the acquiescence cancels in every draw and the small, consistent
    leftward move has an interval below zero; `agreement` reports the acquiescence on its own."""
    econ = [("e0", (-2, -1, 1, 2)), ("e1", (-2, -1, 1, 2)), ("e2", (2, 1, -1, -2)), ("e3", (2, 1, -1, -2))]
    inst = Instrument(
        "k",
        tuple(Proposition(i, "economic", i.upper(), w) for i, w in econ)
        + tuple(Proposition(f"s{i}", "social", f"S{i}", (-2, -1, 1, 2)) for i in range(2)),
    )
    base = np.array([0.0, 0.1, 0.0, -0.1, 0.0, 0.0])
    # agreeing more adds +0.3 to right-keyed items' weights and -0.3 to left-keyed ones; the view adds -0.05
    # to every economic item, with a little item noise
    adapter = base + np.array([0.3 - 0.05, 0.3 - 0.06, -0.3 - 0.05, -0.3 - 0.04, 0.0, 0.0])
    s = paired_shift(inst, base, adapter, bootstrap=500, seed=0)
    assert s["economic"] == pytest.approx(10 * -0.2 / 8)
    assert s["economic_ci95"][1] < 0  # stratified: the acquiescence never leaks into a draw
    # per keying, the mean agreeing change over the full answer range (4); then the mean of the two keyings.
    # The social axis has one keying only, so it cannot tell agreeing from a view and is left out
    assert s["agreement"] == pytest.approx(
        ((0.25 + 0.24) / 2 / 4 + (0.35 + 0.34) / 2 / 4) / 2, abs=1e-4
    )  # rounded
    assert s["agreement_ci95"][0] > 0
    # a free (unstratified) resample of the same items straddles zero: a draw of mostly right-keyed items
    # turns the acquiescence into a move right
    rng = np.random.default_rng(0)
    free = [
        axis_coordinate(inst, adapter, "economic", idx) - axis_coordinate(inst, base, "economic", idx)
        for idx in (rng.integers(0, 4, 4) for _ in range(500))
    ]
    lo, hi = np.percentile(free, [2.5, 97.5])
    assert lo < 0 < hi


def test_agreement_is_zero_for_a_pure_view_shift_even_when_unbalanced() -> None:
    """Three items agree = right, one agree = left: a plain mean of the keyed changes would read a move right
    as acquiescence. Averaging the keyings first does not; a NaN (unanswered) item is left out."""
    econ = [
        ("a", (-2, -1, 1, 2)),
        ("b", (-2, -1, 1, 2)),
        ("c", (-2, -1, 1, 2)),
        ("d", (2, 1, -1, -2)),
        ("e", (-2, -1, 1, 2)),
    ]
    inst = Instrument("u", tuple(Proposition(i, "economic", i.upper(), w) for i, w in econ))
    base = np.array([0.0, 0.2, -0.2, 0.1, np.nan])
    right = base + 0.3  # every item's expected weight moves right: a view, not a habit of agreeing
    s = paired_shift(inst, base, right, bootstrap=300, seed=0)
    assert s["agreement"] == pytest.approx(0.0) and s["agreement_ci95"] == [0.0, 0.0]
    assert s["economic"] > 0
    one_keying = Instrument(
        "one", tuple(Proposition(i, "economic", i.upper(), (-2, -1, 1, 2)) for i in "xyz")
    )
    assert "agreement" not in paired_shift(one_keying, np.zeros(3), np.full(3, 0.5), bootstrap=50)


def test_summary_splits_shifts_on_an_unbalanced_instrument() -> None:
    """Three items where agreeing counts right, one where it counts left: agreeing more reads as 'right'; the
    summary says how much of that shift is acquiescence. A balanced axis gets no row."""
    unbalanced = Instrument(
        "u",
        tuple(Proposition(f"e{i}", "economic", f"E{i}", (-2, -1, 1, 2)) for i in range(3))
        + (Proposition("e3", "economic", "E3", (2, 1, -1, -2)),)
        + tuple(
            Proposition(f"s{i}", "social", f"S{i}", w) for i, w in enumerate([(-2, -1, 1, 2), (2, 1, -1, -2)])
        ),
    )
    base = np.zeros(6)
    agrees = np.array([0.4, 0.4, 0.4, -0.4, 0.4, -0.4])  # every item 10% of its range toward 'agree'
    s = paired_shift(unbalanced, base, agrees, bootstrap=200)
    assert s["economic"] == pytest.approx(10 * 0.8 / 8) and s["economic_acquiescence_part"] == pytest.approx(
        1.0
    )
    assert s["economic_view_part"] == pytest.approx(0.0) and s["social_acquiescence_part"] == pytest.approx(
        0.0
    )
    r = {"economic": 0.0, "economic_ci95": [0.0, 0.0], "social": 0.0, "social_ci95": [0.0, 0.0]}
    md = summary_markdown({"m": {"base": r, "left": r}}, {"m": {"left": s}}, "u")
    assert (
        "## How much of each shift is acquiescence" in md and "u economic +10.00" in md
    )  # (3 - 1) x 4 / (4 x 2) x 10
    assert "| u | m | left | economic | +1.00 | +1.00 [+1.00, +1.00] | +0.00 |" in md
    assert "| u | m | left | social |" not in md


def test_shifts_from_a_control_arm() -> None:
    base = [0.0] * 8
    control = [0.1] * 4 + [0.0] * 4  # fine-tuning alone moved every economic item right by 0.1
    left = [-0.1] * 4 + [0.0] * 4
    items = {"m": {"base": rows(base), "shuffled": rows(control), "left": rows(left)}}
    from_base = shifts(INST, items, bootstrap=100, seed=0)
    assert set(from_base["m"]) == {"shuffled", "left"}
    from_control = shifts(INST, items, bootstrap=100, seed=0, ref="shuffled", only=["left"])
    assert set(from_control["m"]) == {"left"}
    assert from_control["m"]["left"]["economic"] == pytest.approx(10 * -0.8 / 8)  # twice the shift from base
    r = {"economic": 0.0, "economic_ci95": [0.0, 0.0], "social": 0.0, "social_ci95": [0.0, 0.0]}
    md = summary_markdown(
        {"m": {"base": r, "left": r, "shuffled": r}},
        from_base,
        "t",
        sh_control={"shuffled": {"t": from_control}},
    )
    assert "## Shift from the control arm" in md and "| shuffled | t | m | left | -1.00 [-1.00, -1.00]" in md


def _side_rows(p_pref: list[float], p_answers: list[float]) -> tuple[list[dict], list[dict]]:
    paired = [
        {
            "instrument": "paired_v1",
            "id": f"p{i}",
            "axis": "economic" if i < 2 else "social",
            "topic": "t",
            "preference": v,
            "choice": 0.5,
        }
        for i, v in enumerate(p_pref)
    ]
    # two answers per question (greedy + one seed): the question's P(right) is their mean
    answers = [
        {
            "questions": "questions_v1",
            "id": f"q{i // 2}",
            "axis": "economic",
            "draw": str(i % 2),
            "text": "x",
            "p_right": v,
        }
        for i, v in enumerate(p_answers)
    ]
    return paired, answers


def test_side_shifts_from_base_and_control(tmp_path: Path) -> None:
    from politune.report import plot_side_measures, side_markdown, side_shifts

    rows: dict = {"paired": {"m": {}}, "openended": {"m": {}}}
    for v, pref, ans in (
        ("base", [0.5, 0.5, 0.5, 0.5], [0.4, 0.6, 0.5, 0.5]),
        ("left", [0.4, 0.3, 0.5, 0.5], [0.3, 0.5, 0.4, 0.4]),
        ("shuffled", [0.5, 0.4, 0.5, 0.5], [0.4, 0.6, 0.5, 0.5]),
    ):
        rows["paired"]["m"][v], rows["openended"]["m"][v] = _side_rows(pref, ans)
    sh = side_shifts(rows, bootstrap=200, seed=0)
    pref = sh["m"]["left"]["paired statements, preference"]["paired_v1"]
    assert pref["economic"] == pytest.approx(-0.15) and pref["social"] == 0.0
    assert sh["m"]["left"]["paired statements, A/B choice"]["paired_v1"]["economic"] == 0.0
    # open-ended: per question mean of its answers, then the mean change: (-0.1 + -0.1) / 2
    assert sh["m"]["left"]["open-ended answers, lean classifier"]["questions_v1"][
        "economic"
    ] == pytest.approx(-0.1)
    ctl = side_shifts(rows, bootstrap=200, seed=0, ref="shuffled", only=["left"])
    assert set(ctl["m"]) == {"left"}
    assert ctl["m"]["left"]["paired statements, preference"]["paired_v1"]["economic"] == pytest.approx(-0.1)
    levels = {
        "m": {
            "base": {
                "paired statements, preference": {
                    "paired_v1": {
                        "economic": 0.5,
                        "economic_ci95": [0.5, 0.5],
                        "social": 0.5,
                        "social_ci95": [0.5, 0.5],
                    }
                }
            }
        }
    }
    md = "\n".join(side_markdown(levels, sh, {"shuffled": ctl}, {"paired_v1", "questions_v1"}))
    assert "Which side" in md and "Shift from the control arm `shuffled`" in md
    from politune.report import glance_markdown

    likert = {
        "m": {
            "left": {
                "economic": -0.5,
                "economic_ci95": [-0.9, -0.1],
                "social": 0.1,
                "social_ci95": [-0.2, 0.3],
                "economic_acquiescence_part": 0.0,
            }
        }
    }
    glance = "\n".join(
        glance_markdown(likert, {"heldout_v1": likert}, sh, "politune_v1", {"paired_v1", "questions_v1"})
    )
    assert (
        "| m left | Likert (politune_v1 / heldout_v1), points | -0.50 [-0.90, -0.10] * (acq +0.00) |"
        in glance
    )
    assert "| m left | paired statements, preference, P(right) | -0.150 [" in glance
    plot_side_measures(sh, str(tmp_path / "m.png"), {"paired_v1"})
    assert (tmp_path / "m.png").stat().st_size > 1000
    # an adapter scored on other items than base is an error that says to rerun, not a silent mismatch
    rows["paired"]["m"]["left"] = rows["paired"]["m"]["left"][:3]
    with pytest.raises(ValueError, match="do not match base's; rerun evaluate"):
        side_shifts(rows, bootstrap=10, seed=0)


def test_side_measure_plot_without_side_measures_is_a_placeholder(tmp_path: Path) -> None:
    """evaluate.measures: [likert] leaves no side shifts; metrics/measures.png (a DVC output) is still written."""
    from politune.report import plot_side_measures

    plot_side_measures({}, str(tmp_path / "m.png"), set())
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _report_inputs(heldout_items: dict | None = None) -> ReportInputs:
    """One model, base + left + right + a control arm, on INST (main and held-out), the paired statements and
    the open-ended answers; a neutral text; left's training metrics."""
    r = {"economic": 0.0, "economic_ci95": [0.0, 0.0], "social": 0.0, "social_ci95": [0.0, 0.0]}
    moves = {"base": 0.0, "left": -0.2, "right": 0.2, "shuffled": 0.05}
    items = {"m": {v: rows([d + (0.1 * i % 0.3) for i in range(8)]) for v, d in moves.items()}}
    side: dict = {"paired": {"m": {}}, "openended": {"m": {}}}
    for v, d in moves.items():
        side["paired"]["m"][v], side["openended"]["m"][v] = _side_rows(
            [0.5 + d, 0.4 + d, 0.5, 0.5], [0.4 + d, 0.6 + d, 0.5, 0.5]
        )
    return ReportInputs(
        results={
            "m": {
                v: {**r, "economic": d, "neutral": {"texts": 1, "perplexity": 20.0}} for v, d in moves.items()
            }
        },
        items=items,
        heldout_items={"held": items} if heldout_items is None else heldout_items,
        side_rows=side,
        neutral_rows={"m": {v: [{"id": "n0", "nll": 3.0 + d, "tokens": 10}] for v, d in moves.items()}},
        train={"m-left": {"eval_rewards_accuracies": 0.75}},
        instrument=INST,
        heldout=[Instrument("held", INST.propositions)],
    )


IDEOLOGIES = {
    "left": IdeologySpec(side="left", description="l"),
    "right": IdeologySpec(side="right", description="r"),
    "shuffled": IdeologySpec(control_of="left", description="c"),
}


def test_build_report_assembles_every_output() -> None:
    e = EvaluateParams(heldout_instruments=["data/instruments/held.csv"], bootstrap=50)
    rep = build_report(e, IDEOLOGIES, _report_inputs())
    m = rep.metrics
    assert list(m) == [
        "coordinates",
        "shift_from_base",
        "shift_from_base_heldout",
        "shift_from_control",
        "neutral_perplexity_ratio",
        "side",
        "bar",
    ]
    assert set(m["shift_from_base"]["m"]) == {"left", "right", "shuffled"}
    assert set(m["shift_from_control"]["shuffled"]) == {"t", "held"}
    assert set(m["shift_from_control"]["shuffled"]["t"]["m"]) == {"left", "right"}
    assert m["neutral_perplexity_ratio"]["m"]["left"]["ratio"] == pytest.approx(np.exp(-0.2), abs=1e-4)
    assert set(m["side"]) == {"p_right", "shift_from_base", "shift_from_control"}
    assert m["bar"]["controls"] == ["shuffled"] and m["coordinates"]["m"]["left"] == {
        "economic": -0.2,
        "social": 0.0,
    }
    assert rep.compass_points[0] == {"model": "m", "variant": "base", "economic": 0.0, "social": 0.0}
    assert rep.item_change and set(rep.item_change[0]) == {"model", "variant", "item", "axis", "change"}
    assert rep.summary.startswith("# politune report\n\n## At a glance") and rep.summary.endswith("\n")
    assert "## The bar" in rep.summary and "## Shift from the control arm" in rep.summary
    assert "| m | left | 20.00 | 0.819 [0.819, 0.819] | 0.75 |" in rep.summary  # the cost of a shift
    assert rep.compass_title == "PoliTune compass (politune_v1, logprob)"
    assert (
        rep.main_sets == {"paired_v1", "questions_v1"} and rep.side_from_base == m["side"]["shift_from_base"]
    )
    assert rep.shifts is m["shift_from_base"] and rep.results["m"]["right"]["economic"] == 0.2


def test_build_report_without_side_measures_or_controls() -> None:
    inputs = _report_inputs()
    bare = ReportInputs(**{**inputs.__dict__, "side_rows": {}, "neutral_rows": {}, "heldout": []})
    e = EvaluateParams(measures=["likert"], neutral_text=None, heldout_instruments=[], bootstrap=20)
    rep = build_report(e, {k: v for k, v in IDEOLOGIES.items() if k != "shuffled"}, bare)
    assert list(rep.metrics) == ["coordinates", "shift_from_base", "shift_from_base_heldout", "bar"]
    assert rep.metrics["shift_from_base_heldout"] == {} and rep.side_from_base == {}
    assert rep.metrics["bar"]["met"] is False


def test_build_report_needs_the_heldout_answers() -> None:
    e = EvaluateParams(heldout_instruments=["data/instruments/held.csv"], bootstrap=10)
    with pytest.raises(
        FileNotFoundError, match="no per-item answers for held-out instrument data/instruments/held"
    ):
        build_report(e, IDEOLOGIES, _report_inputs(heldout_items={}))
