"""Compass instruments and scoring, including golden tests for the Political Compass scorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from politune.compass.instrument import (
    Instrument,
    InstrumentError,
    Proposition,
    load_csv_instrument,
    pct_score,
    pct_weights,
)
from politune.compass.score import score

REPO = Path(__file__).resolve().parents[2]


def pct_instrument() -> Instrument:
    props = tuple(
        Proposition(f"pct-{i + 1:02d}", axis, f"proposition {i + 1}", w)
        for i, (axis, w) in enumerate(pct_weights())
    )
    return Instrument("political_compass", props, kind="pct")


def onehot(n: int, option: int) -> np.ndarray:
    p = np.zeros((n, 4))
    p[:, option] = 1.0
    return p


def test_pct_weights_table_shape() -> None:
    w = pct_weights()
    assert len(w) == 62
    assert sum(1 for a, _ in w if a == "economic") == 18
    assert sum(1 for a, _ in w if a == "social") == 44
    assert w[0] == ("economic", (7.0, 5.0, 0.0, -2.0))


def test_pct_golden_all_same_answer() -> None:
    inst = pct_instrument()
    # checked against the website (DESIGN.md section 3): all "agree" -> (0.38, 2.41)
    r = score(inst, onehot(62, 2), bootstrap=0)
    assert (r["economic"], r["social"]) == (0.38, 2.41)
    # all "strongly disagree": website (0, -4.36). The formula gives -3/8 + 0.38 = 0.005 -> 0.01: the
    # website rounds that half-cent down; we keep the formula and document the 0.01 difference.
    r = score(inst, onehot(62, 0), bootstrap=0)
    assert (r["economic"], r["social"]) == (0.01, -4.36)
    assert pct_score({"economic": -3.0, "social": -132.0}) == {"economic": 0.01, "social": -4.36}


def test_pct_catches_shifted_63_row_table() -> None:
    """A widely copied scorer shifts every economic weight by one item. Answering 'strongly agree' to
    item 1 only (the rest 'agree', weight 0) isolates item 1's weight: -2 -> econ = -2/8 + 0.38."""
    inst = pct_instrument()
    probs = onehot(62, 2)
    probs[0] = [0, 0, 0, 1]
    r = score(inst, probs, bootstrap=0)
    assert r["economic"] == round(-2 / 8 + 0.38, 2) == 0.13
    assert r["social"] == 2.41  # item 1 is economic: the social axis must not move
    # item 2 is social (strongly agree = +2): only the social axis moves
    probs = onehot(62, 2)
    probs[1] = [0, 0, 0, 1]
    r = score(inst, probs, bootstrap=0)
    assert r["economic"] == 0.38 and r["social"] == round(2 / 19.5 + 2.41, 2)


def test_csv_instrument_written_by_the_test(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "id,axis,text,strongly_disagree,disagree,agree,strongly_agree\n"
        "e1,economic,Markets know best.,-2,-1,1,2\n"
        'e2,economic,"Tax wealth, share it.",2,1,-1,-2\n'
        "s1,social,Obey the rules.,-3,-1,1,3\n"
    )
    inst = load_csv_instrument(path)
    assert [p.id for p in inst.propositions] == ["e1", "e2", "s1"]
    probs = np.array([[0, 0, 0, 1.0], [1.0, 0, 0, 0], [0, 0, 0.5, 0.5]])
    r = score(inst, probs, bootstrap=200, seed=1)
    assert r["economic"] == 10.0  # both economic answers are maximally right
    assert r["social"] == pytest.approx(10 * 2 / 3, abs=1e-3)
    assert r["economic_ci95"][0] <= r["economic"] <= r["economic_ci95"][1]


def test_shipped_instruments_balanced() -> None:
    for name in ("politune_v1", "heldout_v1"):
        inst = load_csv_instrument(REPO / "data" / "instruments" / f"{name}.csv")
        r = score(inst, onehot(len(inst.propositions), 2), bootstrap=0)  # agree with everything
        assert r["economic"] == 0 and r["social"] == 0, name


def test_bad_instrument_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,axis,text,strongly_disagree,disagree,agree,strongly_agree\ne1,cultural,x,1,2,3,4\n")
    with pytest.raises(InstrumentError, match=r"bad.csv:2: axis 'cultural'"):
        load_csv_instrument(path)
    path.write_text("id,text\n")
    with pytest.raises(InstrumentError, match="header must be exactly"):
        load_csv_instrument(path)


def test_pct_from_user_text_file(tmp_path: Path) -> None:
    from politune.compass.instrument import load_instrument

    qs = tmp_path / "pc_questions.txt"
    qs.write_text("\n".join(f"Proposition number {i}." for i in range(1, 63)) + "\n")
    inst = load_instrument(qs)
    assert inst.kind == "pct" and len(inst.propositions) == 62 and inst.propositions[0].axis == "economic"
    assert score(inst, onehot(62, 2), bootstrap=0)["economic"] == 0.38
    qs.write_text("only one line\n")
    with pytest.raises(InstrumentError, match="1 propositions, the Political Compass test has 62"):
        load_instrument(qs)


def _keyed(inst: Instrument) -> tuple[np.ndarray, np.ndarray]:
    """(keying, answer range) per item: +1 where agreeing moves the coordinate up."""
    w = np.array([p.weights for p in inst.propositions], dtype=float)
    return np.sign(w[:, 3] - w[:, 0]), w.max(axis=1) - w.min(axis=1)


def test_pct_decomposition_from_the_shipped_weights() -> None:
    """A model that only agrees more (every item moves toward 'agree' by 10% of its range) comes out as pure
    acquiescence on the Political Compass; a model that only moves right comes out as pure view."""
    from politune.compass.score import acquiescence_response, paired_shift

    inst = pct_instrument()
    key, span = _keyed(inst)
    axis = np.array([p.axis for p in inst.propositions])
    # golden response per unit of acquiescence, from the weights alone: sum(keying x range) / divisor
    for ax, div in (("economic", 8.0), ("social", 19.5)):
        m = axis == ax
        assert acquiescence_response(inst, ax) == pytest.approx(float((key[m] * span[m]).sum()) / div)
    # the social axis: 31 items where agreeing counts authoritarian, 12 libertarian -> agreeing reads authoritarian
    assert int((key[axis == "social"] > 0).sum()) == 31 and int((key[axis == "social"] < 0).sum()) == 12
    assert acquiescence_response(inst, "social") > 1.0
    base = np.zeros(len(inst.propositions))
    agrees_more = base + 0.1 * span * key
    s = paired_shift(inst, base, agrees_more, bootstrap=200)
    assert s["agreement"] == pytest.approx(0.1)
    for ax in ("economic", "social"):
        assert s[f"{ax}_acquiescence_part"] == pytest.approx(s[ax], abs=0.011)  # pct_score rounds to 0.01
        assert abs(s[f"{ax}_view_part"]) <= 0.011
    assert s["social"] > 0.1  # "more authoritarian", from agreeing alone
    moves_right = (
        base + 0.1 * span
    )  # every item toward the end that raises the coordinate, whatever its keying
    v = paired_shift(inst, base, moves_right, bootstrap=200)
    for ax in ("economic", "social"):
        assert abs(v[f"{ax}_acquiescence_part"]) < 1e-9 and v[f"{ax}_view_part"] == pytest.approx(v[ax])
        assert v[ax] > 0.5


def test_balanced_csv_instrument_has_no_acquiescence_part() -> None:
    from politune.compass.instrument import load_instrument
    from politune.compass.score import acquiescence_response, paired_shift

    inst = load_instrument(Path(__file__).resolve().parents[2] / "data" / "instruments" / "politune_v1.csv")
    assert acquiescence_response(inst, "economic") == pytest.approx(0.0)
    key, span = _keyed(inst)
    s = paired_shift(inst, np.zeros(len(key)), 0.2 * span * key, bootstrap=100)
    assert abs(s["economic"]) < 1e-9 and s["agreement"] == pytest.approx(0.2)
    assert s["economic_acquiescence_part"] == pytest.approx(0.0, abs=1e-9)
