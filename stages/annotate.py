"""Stage annotate: the annotator model scores every ingested post (relevance, leaning).

    python -m stages.annotate
Outputs: data/interim/annotations.jsonl, data/interim/gold_annotations.jsonl (the gold set, scored),
data/quarantine/annotate/invalid.jsonl, metrics/annotate.json (with gold agreement and injection flip rate).

Resumable: annotations are cached per post in data/cache/annotate/<context>/ (context = a hash of the prompt
template, labels, model, dtype, backend and schema version), one part file per chunk of `annotate.chunk_size`
posts, each written atomically. After a kill, `dvc repro` reuses every finished chunk and redoes at most the
one in flight; the output equals an uninterrupted run's. The work itself is in politune/annotator.py.
"""

from __future__ import annotations

import logging
import time

import click

from politune.annotator import (
    annotate_cached,
    annotate_metrics,
    make_worker,
    quarantine_problem,
    split_usable,
    validate,
)
from politune.io import read_jsonl, write_jsonl
from politune.models import resolve_dtype
from politune.rowcache import RowCache
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

log = logging.getLogger(__name__)

QUARANTINE = "data/quarantine/annotate/invalid.jsonl"


@click.command()
@PARAMS_OPTION
@stage("annotate")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    a = p.annotate
    posts = read_jsonl("data/interim/posts.jsonl")
    if not posts:
        raise ValueError("data/interim/posts.jsonl is empty: ingest kept nothing (see metrics/ingest.json)")
    work, order, ctx = make_worker(p, posts)
    cache = RowCache(f"data/cache/annotate/{ctx[:16]}", ctx)
    log.info(
        "annotating %d posts with %s (%s); cache %s holds %d rows",
        len(posts),
        a.model,
        a.backend,
        cache.folder,
        len(cache.rows),
    )
    t1 = time.time()
    values, counts = annotate_cached(cache, posts, work, order, a.chunk_size)
    secs = time.time() - t1
    ann, invalid = split_usable(posts, values)
    if invalid:
        log.warning(
            "annotate: %d posts got unusable annotations; quarantined in data/quarantine/annotate/",
            len(invalid),
        )
    problem = quarantine_problem(invalid, len(posts), a.max_quarantine_fraction, QUARANTINE)
    if problem:
        write_jsonl(QUARANTINE, invalid)  # kept for inspection; nothing else written
        raise RuntimeError(problem)
    validation, gold_rows = validate(a, work)
    write_jsonl("data/interim/gold_annotations.jsonl", gold_rows)
    write_jsonl(QUARANTINE, invalid)
    write_jsonl("data/interim/annotations.jsonl", ann)
    # the dtype the annotator computed in (not known for a server someone else runs: annotate.backend openai)
    dtype = resolve_dtype(p.models[a.model].infer_dtype) if a.backend != "openai" else None
    write_metrics(
        "metrics/annotate.json",
        {**annotate_metrics(a, posts, values, ann, invalid, counts, secs, validation, work), "dtype": dtype},
        t0,
    )


if __name__ == "__main__":
    main()
