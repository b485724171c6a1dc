"""Selection: keep the posts whose annotation passes the thresholds (the paper's filtering step).

A post is kept when relevance >= min_relevance and its leaning toward its own side (its party's, or its
corpus's: leaning for the right, -leaning for the left) is >= min_alignment; at most max_per_side per
side, highest alignment first. Thresholds live in params, so changing one reruns only select and
what follows, never the annotation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from politune.params import SelectParams
from politune.records import Post


def alignment(post: Post) -> float:
    return post["leaning"] if post["side"] == "right" else -post["leaning"]


def select_posts(rows: list[Post], p: SelectParams) -> tuple[list[Post], dict[str, Any]]:
    """rows: posts joined with their annotations. Returns (kept rows, counts)."""
    reasons: Counter = Counter()
    passing: dict[str | None, list[Post]] = {}
    for r in rows:
        if r["relevance"] < p.min_relevance:
            reasons["below_min_relevance"] += 1
            continue
        a = alignment(r)
        if a < p.min_alignment:
            reasons["below_min_alignment"] += 1
            continue
        kept_row: Post = {**r, "alignment": a}
        passing.setdefault(r["side"], []).append(kept_row)
    kept: list[Post] = []
    for side, lst in sorted(passing.items()):
        lst.sort(key=lambda r: (-r["alignment"], r["post_id"]))
        kept.extend(lst[: p.max_per_side])
        if len(lst) > p.max_per_side:
            reasons[f"over_max_per_side_{side}"] += len(lst) - p.max_per_side
    counts = {
        "rows_in": len(rows),
        "kept": len(kept),
        "kept_per_side": dict(Counter(r["side"] for r in kept)),
        "dropped": dict(reasons),
    }
    return kept, counts


def source_counts(posts: list[Post], kept: list[Post]) -> dict[str, dict[str, int]]:
    """Per corpus and party (or side, where a corpus has no parties): posts ingested and posts selected."""

    def key(r: Post) -> str:
        return f"{r.get('corpus', '')} ({r.get('party') or r['side']})"

    ingested, selected = Counter(key(r) for r in posts), Counter(key(r) for r in kept)
    return {k: {"ingested": ingested[k], "selected": selected[k]} for k in sorted(ingested)}
