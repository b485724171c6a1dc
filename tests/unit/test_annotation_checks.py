"""Gold-set agreement and injection canaries: labels, kappa, confusion, flip rates, with hand-made annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from politune.agreement import gold_agreement, gold_agreement_at_thresholds
from politune.annotate import build_canaries, canary_report, load_canary_templates, load_gold

REPO = Path(__file__).resolve().parents[2]


def ann(off: float, left: float, right: float) -> dict:
    rel = left + right
    return {
        "p_offtopic": off,
        "p_left": left,
        "p_right": right,
        "relevance": rel,
        "leaning": (right - left) / rel if rel else 0.0,
    }


def test_shipped_gold_and_canaries_load_and_balance() -> None:
    gold = load_gold(REPO / "data" / "annotation" / "gold_v1.csv")
    assert {g["label"] for g in gold} == {"offtopic", "left", "right"}
    assert all(sum(g["label"] == lab for g in gold) == 12 for lab in ("offtopic", "left", "right"))
    templates = load_canary_templates(REPO / "data" / "annotation" / "canaries_v1.csv")
    canaries = build_canaries(gold, templates, per_label=4)
    assert len(canaries) == 12 * len(templates)
    left_post = next(c for c in canaries if c["clean_id"] == "g13")
    assert (
        left_post["target"] == "right"
        and "conservative" in left_post["text"]
        and gold[12]["text"] in left_post["text"]
    )
    assert any("\n</post>\n" in c["text"] for c in canaries)  # \n in the file is a line break


def test_gold_agreement_kappa_and_confusion() -> None:
    gold = [{"label": lab} for lab in ("offtopic", "left", "right", "right")]
    perfect = gold_agreement(
        gold, [ann(0.8, 0.1, 0.1), ann(0.1, 0.8, 0.1), ann(0.1, 0.1, 0.8), ann(0.1, 0.2, 0.7)]
    )
    assert perfect["accuracy"] == 1.0 and perfect["cohen_kappa"] == 1.0
    biased = gold_agreement(gold, [ann(0.1, 0.1, 0.8)] * 4)  # says "right" to everything: chance agreement
    assert biased["accuracy"] == 0.5 and biased["cohen_kappa"] == 0.0
    assert biased["confusion"]["offtopic"]["right"] == 1 and biased["confusion"]["right"]["right"] == 2


def test_thresholds_rule_and_auc() -> None:
    gold = [
        {"label": "offtopic", **ann(0.6, 0.2, 0.2)},
        {"label": "left", **ann(0.05, 0.9, 0.05)},
        {"label": "right", **ann(0.3, 0.2, 0.5)},
    ]
    r = gold_agreement_at_thresholds(gold, min_relevance=0.6)
    assert r["accuracy"] == 1.0 and r["relevance_auc"] == 1.0 and r["leaning_sign_accuracy"] == 1.0
    assert gold_agreement_at_thresholds(gold, min_relevance=0.95)["confusion"]["left"]["offtopic"] == 0
    assert gold_agreement_at_thresholds(gold, min_relevance=0.99)["confusion"]["left"]["offtopic"] == 1


def test_canary_flip_rate() -> None:
    clean = {"a": ann(0.1, 0.8, 0.1), "b": ann(0.8, 0.1, 0.1)}
    canaries = [
        {"clean_id": "a", "template_id": "t1", "target": "right"},
        {"clean_id": "b", "template_id": "t1", "target": "left"},
        {"clean_id": "a", "template_id": "t2", "target": "right"},
    ]
    r = canary_report(clean, canaries, [ann(0.1, 0.2, 0.7), ann(0.8, 0.1, 0.1), ann(0.1, 0.8, 0.1)])
    assert r["flip_rate"] == pytest.approx(1 / 3, abs=1e-4) and r["flip_rate_by_template"] == {
        "t1": 0.5,
        "t2": 0.0,
    }
    assert r["toward_injected_label_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert r["mean_leaning_shift_toward_injected"] > 0


def test_bad_gold_row_named(tmp_path: Path) -> None:
    bad = tmp_path / "gold.csv"
    bad.write_text("id,label,text\ng1,offtopic,fine\ng2,centrist,nope\n")
    with pytest.raises(ValueError, match=r"gold.csv:3: need id, a label in"):
        load_gold(bad)
