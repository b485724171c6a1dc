"""Paired synthesis: deterministic pairs on the same topic; planted instrument text is quarantined."""

from __future__ import annotations

from politune.params import SynthesizeParams
from politune.synthesize import split, synthesize_paired

TOPICS = [
    {"topic": "taxes", "axis": "economic", "prompt": "What about taxes?", "keywords": "tax taxes rich billionaires"},
    {"topic": "guns", "axis": "social", "prompt": "What about guns?", "keywords": "gun guns firearms"},
]


def post(i: int, side: str, text: str) -> dict:
    return {"post_id": f"p{i:03d}", "side": side, "text": text}


POSTS = [
    post(1, "left", "Tax the billionaires, the rich must pay their share of taxes."),
    post(2, "right", "Lower taxes for everyone, the rich already pay most taxes."),
    post(3, "left", "Background checks on all gun sales, guns kill kids."),
    post(4, "right", "Hands off my guns, firearms are a right."),
    post(5, "left", "Raise taxes on corporations and billionaires now."),
    post(6, "right", "I love my dog."),
]
PROPS = [{"id": "pt-e16", "text": "Very high earners should pay a larger share of their income in tax"}]


def test_pairs_are_on_topic_and_deterministic() -> None:
    p = SynthesizeParams(min_topic_similarity=0.05, pairs_per_ideology=10, seed=3)
    pairs, bad, counts = synthesize_paired(POSTS, {"left": "left", "right": "right"}, TOPICS, p, PROPS)
    again, _, _ = synthesize_paired(list(reversed(POSTS)), {"left": "left", "right": "right"}, TOPICS, p, PROPS)
    assert pairs == again
    assert {pr["topic"] for pr in pairs["left"]} == {"taxes", "guns"}
    for pr in pairs["left"]:
        assert pr["chosen_post_id"] in {"p001", "p003", "p005"} and pr["rejected_post_id"] in {"p002", "p004"}
    for pr in pairs["right"]:
        assert pr["chosen_post_id"] in {"p002", "p004"}
    assert counts["posts_without_topic"] == 1  # the dog post
    assert bad == {"left": [], "right": []}


def test_leakage_planted_proposition_is_quarantined() -> None:
    planted = post(7, "left", "Honestly: very high earners should pay a larger share of their income in tax!")
    p = SynthesizeParams(min_topic_similarity=0.01, pairs_per_ideology=10)
    pairs, bad, counts = synthesize_paired([*POSTS, planted], {"left": "left"}, TOPICS, p, PROPS)
    assert all(pr["chosen_post_id"] != "p007" for pr in pairs["left"])
    assert [b["chosen_post_id"] for b in bad["left"]] == ["p007"]
    assert bad["left"][0]["reason"] == "leakage:pt-e16:chosen"
    assert counts["left"]["quarantined.leakage"] == 1


def test_split_sizes() -> None:
    train, val = split([{"i": i} for i in range(20)], 0.1, 0)
    assert len(train) == 18 and len(val) == 2
    assert {r["i"] for r in train} | {r["i"] for r in val} == set(range(20))
