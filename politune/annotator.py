"""The annotator as the pipeline runs it: built from params, run over a corpus through the row cache, its output
split into usable and quarantined annotations, checked on the gold set and the injection canaries, and summed up
for metrics/annotate.json.

What the annotator is asked and how its replies become annotations is in politune/annotate.py; this module
wires that to a backend, a model and the cache. The annotate stage (stages/annotate.py) and the open-ended
measure's annotator scorer (stages/evaluate.py) both get their annotator from `make_worker`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
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
from politune.llm import make_backend
from politune.models import base_manifest, load_model, load_tokenizer, resolve_dtype, weights_dir
from politune.params import AnnotateParams, Params
from politune.records import Post
from politune.rowcache import RowCache, context_hash, run_cached

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1  # fields of one cached annotation: p_offtopic, p_left, p_right, relevance, leaning

# annotates a chunk of posts ({"text": ...}): one annotation per post, or {"error": reason, ...} for a failure
Worker = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # rows as the row cache stores them


def make_worker(p: Params, posts: list[dict[str, Any]]) -> tuple[Worker, list[int], str]:
    """(work on a chunk of posts, the order to process posts in, the cache context hash) for annotate.backend.

    The model (or server client) is built on the first call of the worker, so a run that finds every post
    cached loads nothing. The transformers backend scores each post batch-invariantly, its prompt after the
    template's prefix (scoring_plan): a post's scores are the same in any post set, chunk or cache state; the
    generative backends
    (vllm, openai) take posts in their order, and their worker carries the backend's `stats` (retries,
    errors, truncations) once it has run.
    """
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
            # batch-invariant scores (politune.llm.invariant): the batch size and the other posts change nothing,
            # so they are not in the key; rows cached before it (batch-dependent) are not reused
            scoring="batch-invariant-v1",
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
                    shared_prefix_len=shared,
                    batch_invariant=True,
                )
                state["prior"] = label_prior(backend, a.max_post_chars)
                state["backend"] = backend
            scored = annotate_posts(
                state["backend"], [Post(text=x["text"]) for x in chunk], a.max_post_chars, state["prior"]
            )
            return [dict(x) for x in scored]

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
        openai=a.openai.model_dump(  # where it is served does not change a greedy answer: not in the key
            exclude={"base_url", "concurrency", "timeout_s", "max_retries", "api_key_env"}
        )
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
                    pipeline_parallel_size=v.pipeline_parallel_size,
                    max_model_len=v.max_model_len,
                    gpu_memory_utilization=v.gpu_memory_utilization,
                    dtype=resolve_dtype(spec.infer_dtype),
                    model_id=a.model,
                )
        texts = [Post(text=x["text"]) for x in chunk]
        out = [
            dict(x)
            for x in judge_posts(state["backend"], texts, a.max_post_chars, a.max_new_tokens, a.max_attempts)
        ]
        judge.stats = state["backend"].stats  # type: ignore[attr-defined]  # retries, errors, truncations
        return out

    return judge, list(range(len(posts))), ctx


def annotate_cached(
    cache: RowCache, posts: list[dict[str, Any]], work: Worker, order: list[int], chunk_size: int
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """(one annotation per post, in the posts' order; the cache's counts). Posts are worked on in `order`, in
    chunks of `chunk_size`; those the cache holds are reused and each finished chunk is cached (failures, with
    an "error" key, are returned but never cached). A progress bar counts the cached posts as done."""
    with tqdm(total=len(posts), desc="annotate", mininterval=2) as bar:
        bar.update(sum(cache.get(x["text"]) is not None for x in posts))
        in_order, counts = run_cached(
            cache, [posts[i] for i in order], lambda x: x["text"], work, chunk_size, bar.update
        )
    values: list[dict[str, Any]] = [{}] * len(posts)
    for i, v in zip(order, in_order, strict=True):
        values[i] = v
    return values, counts


def split_usable(
    posts: list[dict[str, Any]], values: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(usable annotations with their post_id, quarantined rows): a quarantined row holds the post's id and
    text, the `reason` it cannot be used (invalid_reason) and whatever the annotator returned."""
    ann, invalid = [], []
    for post, v in zip(posts, values, strict=True):
        reason = invalid_reason(v)
        if reason is None:
            ann.append({"post_id": post["post_id"], **v})
        else:
            invalid.append({"post_id": post["post_id"], "text": post["text"], "reason": reason, **v})
    return ann, invalid


def reasons_count(invalid: list[dict[str, Any]]) -> dict[str, int]:
    """Quarantined rows per reason, in order of first appearance."""
    return dict(Counter(x["reason"] for x in invalid))


def quarantine_problem(
    invalid: list[dict[str, Any]], n_posts: int, max_fraction: float, where: str
) -> str | None:
    """Why the run must fail (None if it need not): more than `max_fraction` of the `n_posts` posts were
    quarantined (a server that is down, or that rejects the request format, would otherwise quarantine
    everything and the stage would succeed). `where` names the quarantine file in the message."""
    if len(invalid) <= max_fraction * n_posts:
        return None
    return (
        f"annotate: {len(invalid)} of {n_posts} posts got no usable annotation {reasons_count(invalid)}, more "
        f"than annotate.max_quarantine_fraction ({max_fraction}); see "
        f"{where} (finished annotations stay cached)"
    )


def validate(a: AnnotateParams, score: Worker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(metrics, scored gold rows): gold-set agreement and injection flip rate, scored with the same annotator
    (not cached: ~10 s). No gold set (annotate.gold null): no metrics, no rows.

    The gold rows ({id, label, annotation}) are those the annotator scored; the select stage judges them again
    under its thresholds. Gold or canary posts that got no usable annotation are counted
    (`validation_failed`) and left out of the agreement and the flip rate.
    """
    out: dict[str, Any] = {}
    if not a.gold:
        return out, []
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
    rows = [{"id": g["id"], "label": g["label"], **x} for g, x in ok_gold]
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
    return out, rows


def annotate_metrics(
    a: AnnotateParams,
    posts: list[dict[str, Any]],
    values: list[dict[str, Any]],
    ann: list[dict[str, Any]],
    invalid: list[dict[str, Any]],
    counts: dict[str, int],
    seconds: float,
    validation: dict[str, Any],
    work: Worker,
) -> dict[str, Any]:
    """metrics/annotate.json: kept and quarantined posts (by reason), the prompt version, annotator and backend,
    the cache's counts, the annotation speed (`seconds`: time spent annotating, over the posts computed), mean
    relevance, agreement with the source corpus's side (posts whose annotator call did not fail), the
    validation metrics, and the backend's stats when the worker carries them."""
    computed = counts["rows_computed"]
    usable = [(x, v) for x, v in zip(posts, values, strict=True) if "error" not in v]
    return {
        "posts": len(ann),
        "quarantined": len(invalid),
        "quarantined_by_reason": reasons_count(invalid),
        "prompt_version": PROMPT_VERSION if a.backend == "transformers" else JUDGE_VERSION,
        "annotator": a.model,
        "backend": a.backend,
        **counts,
        "posts_per_second": round(computed / max(seconds, 1e-9), 2) if computed else None,
        "mean_relevance": round(sum(x["relevance"] for x in ann) / max(len(ann), 1), 4),
        **{
            k: round(v, 4)
            for k, v in agreement_with_source([x for x, v in usable], [v for _, v in usable]).items()
        },
        **validation,
        **(
            {"backend_stats": dict(work.stats)} if hasattr(work, "stats") else {}
        ),  # retries, errors, truncations
    }


def annotator_scorer(p: Params) -> Callable[[list[str]], np.ndarray]:
    """evaluate.openended.scorer annotator: the annotate stage's model and backend (transformers, vllm, openai)
    read each answer as it reads a post; P(right) = (leaning + 1) / 2, NaN where the backend gave no usable
    judgement (counted as unscored)."""

    def predict(texts: list[str]) -> np.ndarray:
        posts = [{"text": t} for t in texts]
        work, order, _ = make_worker(p, posts)
        out = np.full(len(texts), np.nan)
        for i, ann in zip(order, work([posts[i] for i in order]), strict=True):
            if "error" not in ann:
                out[i] = (ann["leaning"] + 1.0) / 2.0
        return out

    return predict
