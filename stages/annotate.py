"""Stage annotate: the annotator model scores every ingested post (relevance, leaning).

    python -m stages.annotate
Outputs: data/interim/annotations.jsonl, metrics/annotate.json.
"""

from __future__ import annotations

import logging
import time

import click

from politune.annotate import PROMPT_VERSION, agreement_with_source, annotate_posts
from politune.io import read_jsonl, write_jsonl
from politune.llm import make_backend
from politune.models import load_model, load_tokenizer
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

log = logging.getLogger(__name__)


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
    base = f"models/base/{a.model}"
    model = load_model(base, p.models[a.model].infer_dtype)
    backend = make_backend(a.backend, model=model, tokenizer=load_tokenizer(base), model_id=a.model,
                           batch_size=a.batch_size)
    log.info("annotating %d posts with %s (%s)", len(posts), a.model, a.backend)
    t1 = time.time()
    ann = annotate_posts(backend, posts, a.max_post_chars)
    secs = time.time() - t1
    write_jsonl("data/interim/annotations.jsonl", ann)
    write_metrics("metrics/annotate.json", {
        "posts": len(ann), "posts_per_second": round(len(ann) / max(secs, 1e-9), 2), "prompt_version": PROMPT_VERSION,
        "annotator": a.model, "backend": a.backend,
        "mean_relevance": round(sum(x["relevance"] for x in ann) / len(ann), 4),
        **{k: round(v, 4) for k, v in agreement_with_source(posts, ann).items()},
    }, t0)


if __name__ == "__main__":
    main()
