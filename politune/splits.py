"""Splits by document: every passage of one speech (or one post, when a corpus has no documents) lands in the
same split, so no document feeds both training and any validation or evaluation set.

    from politune.splits import assign_splits
    split_of = assign_splits(posts, validation=0.15, test=0.15, seed=0)   # document -> train|validation|test

Within each (corpus, side) group the documents are ordered by a seeded hash; the first round(test * n) go to
`test`, the next round(validation * n) to `validation`, the rest to `train`. So each group's shares are as
close to the fractions as its document count allows, and the split does not depend on which posts a later
filter keeps. `test` documents are held out of the pairs altogether (the annotator is checked on them).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from politune.records import Post

SPLITS = ("train", "validation", "test")


def document_of(post: Post) -> str:
    """The post's document; a post of a corpus without documents is its own."""
    return post.get("document") or f"{post.get('corpus', '')}:post:{post['post_id']}"


def _rank(seed: int, doc: str) -> bytes:
    return hashlib.blake2b(f"{seed}\x1f{doc}".encode(), digest_size=8).digest()


def assign_splits(posts: list[Post], validation: float, test: float, seed: int) -> dict[str, str]:
    """document -> split, for every document of `posts` (see the module docstring)."""
    if validation < 0 or test < 0 or validation + test >= 1:
        raise ValueError(
            f"select.validation_docs={validation}, select.test_docs={test}: each >= 0, sum below 1"
        )
    groups: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for p in posts:
        groups[(p.get("corpus", ""), p["side"])].add(document_of(p))
    out: dict[str, str] = {}
    for key in sorted(groups):
        docs = sorted(groups[key], key=lambda d: _rank(seed, d))
        n_test, n_val = round(test * len(docs)), round(validation * len(docs))
        for i, d in enumerate(docs):
            split = "test" if i < n_test else "validation" if i < n_test + n_val else "train"
            if out.setdefault(d, split) != split:  # one document in two groups (a mixed-side document)
                raise ValueError(
                    f"document {d!r} has posts of two sides or corpora ({key[0]} {key[1]} and another); "
                    f"map its party to one side in corpora.{key[0]}.parties"
                )
    return out
