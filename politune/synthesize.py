"""Preference synthesis: (prompt, chosen, rejected) triples aligned to a target ideology.

Mode `paired` (beyond the paper; the CPU default): every selected post is assigned to a topic of the
topic catalogue by TF-IDF cosine; for an ideology whose side is S, `chosen` is a post from side S,
`rejected` is the most similar post from the other side on the same topic, and `prompt` is the
topic's question. Deterministic given the seed. The output follows the published PoliTune sets'
schema (string columns prompt, chosen, rejected).

Pair checks (counted, offending pairs quarantined): empty or identical sides; leakage, i.e. any word
n-gram shared with a proposition of an evaluation instrument (the model must never be tuned on the
items it is scored on).
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from politune.params import SynthesizeParams

LEAK_NGRAM = 6  # a shared run of 6 words counts as leakage


def load_topics(path: str | Path) -> list[dict[str, str]]:
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    need = {"topic", "axis", "prompt", "keywords"}
    if not rows or not need <= set(rows[0]):
        raise ValueError(f"{path}: needs a header with columns {sorted(need)} and at least one topic")
    return rows


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def ngrams(text: str, n: int = LEAK_NGRAM) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def leakage(text: str, instrument_ngrams: dict[tuple[str, ...], str]) -> str | None:
    """Return the id of an instrument proposition sharing an n-gram with `text`, if any."""
    for g in ngrams(text):
        if g in instrument_ngrams:
            return instrument_ngrams[g]
    return None


def instrument_index(propositions: list[dict[str, str]]) -> dict[tuple[str, ...], str]:
    idx: dict[tuple[str, ...], str] = {}
    for prop in propositions:
        for g in ngrams(prop["text"]):
            idx[g] = prop["id"]
    return idx


def assign_topics(posts: list[dict[str, Any]], topics: list[dict[str, str]], min_sim: float
                  ) -> tuple[list[int], np.ndarray]:
    """Topic index per post (-1 if none reaches min_sim), and the post-post TF-IDF matrix."""
    vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, stop_words="english")
    docs = [t["prompt"] + " " + t["keywords"] for t in topics]
    mat = vec.fit_transform([p["text"] for p in posts] + docs)
    post_m, topic_m = mat[: len(posts)], mat[len(posts) :]
    sims = (post_m @ topic_m.T).toarray()
    best = sims.argmax(axis=1)
    assigned = [int(b) if sims[i, b] >= min_sim else -1 for i, b in enumerate(best)]
    return assigned, post_m


def synthesize_paired(posts: list[dict[str, Any]], ideologies: dict[str, str], topics: list[dict[str, str]],
                      p: SynthesizeParams, instrument_props: list[dict[str, str]]
                      ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """ideologies: name -> side. Returns (pairs per ideology, quarantined per ideology, counts)."""
    too_long = [r for r in posts if len(r["text"]) > p.max_side_chars]
    posts = sorted((r for r in posts if len(r["text"]) <= p.max_side_chars), key=lambda r: r["post_id"])
    assigned, post_m = assign_topics(posts, topics, p.min_topic_similarity)
    leak_idx = instrument_index(instrument_props)
    by_topic_side: dict[tuple[int, str], list[int]] = {}
    for i, (post, t) in enumerate(zip(posts, assigned, strict=True)):
        if t >= 0:
            by_topic_side.setdefault((t, post["side"]), []).append(i)
    counts: dict[str, Any] = {"posts": len(posts) + len(too_long), "posts_too_long_for_pair": len(too_long),
                              "posts_without_topic": assigned.count(-1),
                              "posts_per_topic": dict(Counter(topics[t]["topic"] for t in assigned if t >= 0))}
    out: dict[str, list[dict[str, Any]]] = {}
    bad: dict[str, list[dict[str, Any]]] = {}
    for name, side in sorted(ideologies.items()):
        other = "left" if side == "right" else "right"
        rng = random.Random(f"{p.seed}-{name}")
        targets = [i for i, t in enumerate(assigned) if t >= 0 and posts[i]["side"] == side]
        rng.shuffle(targets)
        c: Counter = Counter()
        pairs: list[dict[str, Any]] = []
        bad[name] = []
        for i in targets:
            if len(pairs) >= p.pairs_per_ideology:
                c["over_pairs_per_ideology"] += 1
                continue
            t = assigned[i]
            cands = by_topic_side.get((t, other), [])
            if not cands:
                c["no_opposite_post_on_topic"] += 1
                continue
            sims = (post_m[cands] @ post_m[i].T).toarray().ravel()
            j = cands[int(np.argmax(sims))]
            pair = {"prompt": topics[t]["prompt"], "chosen": posts[i]["text"], "rejected": posts[j]["text"],
                    "topic": topics[t]["topic"], "axis": topics[t]["axis"],
                    "chosen_post_id": posts[i]["post_id"], "rejected_post_id": posts[j]["post_id"]}
            reason = None
            if not pair["chosen"].strip() or not pair["rejected"].strip():
                reason = "empty_side"
            elif pair["chosen"].strip() == pair["rejected"].strip():
                reason = "identical_sides"
            else:
                for field in ("prompt", "chosen", "rejected"):
                    hit = leakage(pair[field], leak_idx)
                    if hit:
                        reason = f"leakage:{hit}:{field}"
                        break
            if reason:
                c["quarantined." + reason.split(":")[0]] += 1
                bad[name].append({**pair, "reason": reason})
                continue
            pairs.append(pair)
        c["pairs"] = len(pairs)
        counts[name] = dict(c)
        out[name] = pairs
    return out, bad, counts


def split(pairs: list[dict[str, Any]], val_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    idx = list(range(len(pairs)))
    random.Random(seed).shuffle(idx)
    n_val = round(len(pairs) * val_fraction)
    val = set(idx[:n_val])
    return [pr for k, pr in enumerate(pairs) if k not in val], [pr for k, pr in enumerate(pairs) if k in val]
