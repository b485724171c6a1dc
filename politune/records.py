"""The records that cross the library's edges, typed: posts (ingest), annotations (annotate), preference pairs
(synthesize, train) and per-item answers (evaluate).

They are TypedDicts, not classes: a record stays the plain dict that is read from and written to JSONL (so files,
the row cache and DVC hashes are unchanged, and a corpus's extra columns ride along), while the type checker sees
which keys a function reads and writes. `Required` keys are always there; the rest depend on the source (a
Truth Social dump has no `party`, a packaged speech has no `created_at`) or on the step that added them.
"""

from __future__ import annotations

from typing import Any, Required, TypedDict


class Post(TypedDict, total=False):
    """One passage or post after ingest (data/interim/posts.jsonl), and after select with its annotation merged
    in (data/processed/selected.jsonl: the Annotation keys below plus `split`)."""

    text: Required[str]
    post_id: str  # sha256 of corpus + text, 16 hex digits (every ingested post has one; a bare text to annotate not)
    corpus: str  # the key under `corpora` in params
    side: str | None  # left / right from the corpus's `side` or its party column; None = unlabelled
    document: str  # the unit kept whole by the train/validation/test split (politune/splits.py)
    source_file: str
    source_id: str
    line: int
    truncated: bool
    party: str
    speaker: str
    year: int
    split: str  # select: train / validation / test (by document)
    relevance: float  # relevance .. p_offtopic: the post's Annotation, merged in by select
    leaning: float
    p_left: float
    p_right: float
    p_offtopic: float
    alignment: float  # select: how far the annotator's leaning agrees with the post's side


class Annotation(TypedDict, total=False):
    """The annotator's reading of one post (data/interim/annotations.jsonl); a failed row has `error` instead of
    the scores and goes to the quarantine file."""

    post_id: str  # absent only when the input post had none
    relevance: float  # P(political) = 1 - p_offtopic (logprob backends) or the judge's relevance
    leaning: float  # -1 (left) .. +1 (right)
    p_left: float
    p_right: float
    p_offtopic: float
    error: str
    attempts: int


class Pair(TypedDict, total=False):
    """One DPO preference pair (data/processed/pairs/<ideology>/{train,validation}.jsonl)."""

    prompt: Required[str]
    chosen: Required[str]
    rejected: Required[str]
    axis: str
    topic: str
    split: str
    chosen_post_id: str
    rejected_post_id: str
    chosen_document: str
    rejected_document: str


class ItemAnswer(TypedDict):
    """One instrument item's answer, pooled over the prompt variants (data/processed/evaluate/*.items.jsonl)."""

    id: str
    axis: str
    text: str
    expected_weight: float | None  # None: no variant gave a usable answer
    variants: dict[str, dict[str, Any]]  # variant name -> expected_weight, top_answer, answer
