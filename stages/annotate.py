"""Stage annotate: the annotator model scores every ingested post (relevance, leaning).

    python -m stages.annotate
Outputs: data/interim/annotations.jsonl, data/interim/gold_annotations.jsonl (the gold set, scored),
data/quarantine/annotate/invalid.jsonl, metrics/annotate.json (with gold agreement and injection flip rate).

Resumable: annotations are cached per post in data/cache/annotate/<context>/ (context = a hash of the prompt
template, labels, model, dtype, backend and schema version), one part file per chunk of `annotate.chunk_size`
posts, each written atomically. After a kill, `dvc repro` reuses every finished chunk and redoes at most the
one in flight; the output equals an uninterrupted run's.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import click
from tqdm import tqdm

from politune.agreement import gold_agreement
from politune.annotate import (
    JUDGE_PROMPT,
    JUDGE_VERSION,
    JUDGEMENT_SCHEMA,
    LABELS,
    NULL_POST,
    PROMPT_VERSION,
    QUESTION,
    agreement_with_source,
    annotate_posts,
    build_canaries,
    canary_report,
    invalid_reason,
    judge_posts,
    label_prior,
    load_canary_templates,
    load_gold,
    scoring_plan,
)
from politune.io import read_jsonl, write_jsonl
from politune.llm import make_backend
from politune.models import base_manifest, load_model, load_tokenizer, resolve_dtype, weights_dir
from politune.params import Params
from politune.rowcache import RowCache, context_hash, run_cached
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1  # fields of one cached annotation: p_offtopic, p_left, p_right, relevance, leaning


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
    with tqdm(total=len(posts), desc="annotate", mininterval=2) as bar:
        bar.update(sum(cache.get(x["text"]) is not None for x in posts))
        in_order, counts = run_cached(
            cache, [posts[i] for i in order], lambda x: x["text"], work, a.chunk_size, bar.update
        )
    values: list[dict[str, Any]] = [{}] * len(posts)
    for i, v in zip(order, in_order, strict=True):
        values[i] = v
    secs = time.time() - t1
    ann, invalid = [], []
    for post, v in zip(posts, values, strict=True):
        reason = invalid_reason(v)
        if reason is None:
            ann.append({"post_id": post["post_id"], **v})
        else:
            invalid.append({"post_id": post["post_id"], "text": post["text"], "reason": reason, **v})
    if invalid:
        log.warning(
            "annotate: %d posts got unusable annotations; quarantined in data/quarantine/annotate/",
            len(invalid),
        )
    reasons = dict(Counter(x["reason"] for x in invalid))
    if len(invalid) > a.max_quarantine_fraction * len(posts):
        write_jsonl(
            "data/quarantine/annotate/invalid.jsonl", invalid
        )  # kept for inspection; nothing else written
        raise RuntimeError(
            f"annotate: {len(invalid)} of {len(posts)} posts got no usable annotation {reasons}, more "
            f"than annotate.max_quarantine_fraction ({a.max_quarantine_fraction}); see "
            "data/quarantine/annotate/invalid.jsonl (finished annotations stay cached)"
        )
    validation = validate(p.annotate, work)
    write_jsonl("data/quarantine/annotate/invalid.jsonl", invalid)
    write_jsonl("data/interim/annotations.jsonl", ann)
    computed = counts["rows_computed"]
    usable = [(x, v) for x, v in zip(posts, values, strict=True) if "error" not in v]
    write_metrics(
        "metrics/annotate.json",
        {
            "posts": len(ann),
            "quarantined": len(invalid),
            "quarantined_by_reason": reasons,
            "prompt_version": PROMPT_VERSION if a.backend == "transformers" else JUDGE_VERSION,
            "annotator": a.model,
            "backend": a.backend,
            **counts,
            "posts_per_second": round(computed / max(secs, 1e-9), 2) if computed else None,
            "mean_relevance": round(sum(x["relevance"] for x in ann) / max(len(ann), 1), 4),
            **{
                k: round(v, 4)
                for k, v in agreement_with_source([x for x, v in usable], [v for _, v in usable]).items()
            },
            **validation,
            **(
                {"backend_stats": dict(work.stats)} if hasattr(work, "stats") else {}
            ),  # retries, errors, truncations
        },
        t0,
    )


def make_worker(
    p: Params, posts: list[dict[str, Any]]
) -> tuple[Callable[[list[dict[str, Any]]], list[dict[str, Any]]], list[int], str]:
    """(work on a chunk of posts, the order to process posts in, the cache context hash) for annotate.backend."""
    a = p.annotate
    spec = p.models[a.model]
    base = f"models/base/{a.model}"
    state: dict[str, Any] = {}
    weights = base_manifest(base)
    if a.backend == "transformers":
        ctx = context_hash(
            prompt_version=PROMPT_VERSION,
            question=QUESTION,
            labels=LABELS,
            null_post=NULL_POST,
            max_post_chars=a.max_post_chars,
            model=a.model,
            source=spec.source,
            weights=weights,
            dtype=resolve_dtype(spec.infer_dtype),
            backend=a.backend,
            batch_size=a.batch_size,
            schema=SCHEMA_VERSION,
        )
        tok = load_tokenizer(base)
        order, shared = scoring_plan(tok, posts, a.max_post_chars)

        def work(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if "backend" not in state:  # loaded only when something is not cached yet
                backend = make_backend(
                    a.backend,
                    model=load_model(base, spec.infer_dtype),
                    tokenizer=tok,
                    model_id=a.model,
                    batch_size=a.batch_size,
                    progress=False,
                )
                state["prior"] = label_prior(backend, a.max_post_chars)  # one prompt: its own prefix
                backend.shared_prefix_len = shared  # type: ignore[attr-defined]
                state["backend"] = backend
            return annotate_posts(
                state["backend"], [{"text": x["text"]} for x in chunk], a.max_post_chars, state["prior"]
            )

        return work, order, ctx

    served = a.openai.model if a.backend == "openai" else (a.vllm.model or spec.source)
    ctx = context_hash(
        prompt_version=JUDGE_VERSION,
        prompt=JUDGE_PROMPT,
        schema=JUDGEMENT_SCHEMA,
        max_post_chars=a.max_post_chars,
        model=a.model,
        source=spec.source,
        dtype=resolve_dtype(spec.infer_dtype),
        backend=a.backend,
        served=served,
        weights=weights if a.backend == "vllm" else None,
        openai=a.openai.model_dump(exclude={"concurrency", "timeout_s", "max_retries", "api_key_env"})
        if a.backend == "openai"
        else None,
        max_model_len=a.vllm.max_model_len if a.backend == "vllm" else None,
        max_new_tokens=a.max_new_tokens,
        decoding="greedy",
        schema_version=SCHEMA_VERSION,
    )

    def judge(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if "backend" not in state:
            if a.backend == "openai":
                o = a.openai
                state["backend"] = make_backend(
                    "openai",
                    base_url=o.base_url,
                    model=served,
                    concurrency=o.concurrency,
                    timeout_s=o.timeout_s,
                    max_retries=o.max_retries,
                    response_format=o.response_format,
                    api_key_env=o.api_key_env,
                    model_id=a.model,
                )
            else:
                v = a.vllm
                state["backend"] = make_backend(
                    "vllm",
                    model_path=a.vllm.model or str(weights_dir(base)),
                    tensor_parallel_size=v.tensor_parallel_size,
                    max_model_len=v.max_model_len,
                    gpu_memory_utilization=v.gpu_memory_utilization,
                    dtype=resolve_dtype(spec.infer_dtype),
                    model_id=a.model,
                )
        out = judge_posts(state["backend"], chunk, a.max_post_chars, a.max_new_tokens, a.max_attempts)
        judge.stats = state["backend"].stats  # type: ignore[attr-defined]  # retries, errors, truncations
        return out

    return judge, list(range(len(posts))), ctx


def validate(a: Any, score: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> dict[str, Any]:
    """Gold-set agreement and injection flip rate, scored with the same annotator (not cached: ~10 s)."""
    out: dict[str, Any] = {}
    if not a.gold:
        write_jsonl("data/interim/gold_annotations.jsonl", [])
        return out
    gold = load_gold(a.gold)
    canaries = (
        build_canaries(gold, load_canary_templates(a.canaries), a.canary_posts_per_label)
        if a.canaries
        else []
    )
    ann = score([{"text": g["text"]} for g in gold] + [{"text": c["text"]} for c in canaries])
    failed = sum("error" in x for x in ann)
    if failed:  # counted, and left out of the agreement
        log.warning("annotate: %d gold/canary posts got no usable annotation", failed)
        out["validation_failed"] = failed
    ok_gold = [(g, x) for g, x in zip(gold, ann, strict=False) if "error" not in x]
    out["gold"] = gold_agreement(
        [g for g, _ in ok_gold], [x for _, x in ok_gold]
    )  # argmax of the three labels
    # the select stage judges the gold posts again under its thresholds
    write_jsonl(
        "data/interim/gold_annotations.jsonl", [{"id": g["id"], "label": g["label"], **x} for g, x in ok_gold]
    )
    log.info(
        "annotate: gold accuracy %s, kappa %s (%d posts)",
        out["gold"]["accuracy"],
        out["gold"]["cohen_kappa"],
        len(gold),
    )
    if canaries:
        clean = {g["id"]: x for g, x in ok_gold}
        pairs = [
            (c, x)
            for c, x in zip(canaries, ann[len(gold) :], strict=True)
            if "error" not in x and c["clean_id"] in clean
        ]
        out["canaries"] = canary_report(clean, [c for c, _ in pairs], [x for _, x in pairs])
        log.info(
            "annotate: injection flip rate %s over %d canaries", out["canaries"]["flip_rate"], len(canaries)
        )
    return out


if __name__ == "__main__":
    main()
