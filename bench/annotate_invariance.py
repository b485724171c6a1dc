"""Benchmark: what batch-invariant annotation costs and what it buys (politune/llm/invariant.py).

For plain batches and batch-invariant scoring, in float32 on the pipeline's own posts: passages/s at batch 16, and
how far the annotation probabilities of the same passages move when they are scored at batch 5, or among half of
the posts in reverse order (other batches), with the relevance decisions that flip at `select.min_relevance`.

    python bench/annotate_invariance.py                 # every post of data/interim/posts.jsonl (after `dvc repro ingest base_model`)
    python bench/annotate_invariance.py --posts 300     # the first 300 in prompt-length order
"""

from __future__ import annotations

import time

import click
import numpy as np


@click.command()
@click.option("--posts", "n", default=0, show_default=True, help="Posts to score (0: all).")
@click.option("--base", default="models/base/smollm2-135m", show_default=True)
@click.option("--threshold", default=0.96, show_default=True, help="select.min_relevance for the flip count.")
def main(n: int, base: str, threshold: float) -> None:
    from politune.annotate import annotate_posts, scoring_plan
    from politune.io import read_jsonl
    from politune.llm.transformers_backend import TransformersBackend
    from politune.models import load_model, load_tokenizer
    from politune.numerics import environment

    tok, model = load_tokenizer(base), load_model(base, "float32")
    posts = read_jsonl("data/interim/posts.jsonl")
    order, shared = scoring_plan(tok, posts, 600)
    ps = [{"text": posts[i]["text"]} for i in (order[:n] if n else order)]
    other = list(range(len(ps)))[::-1][::2]

    def probs(batch_size: int, invariant: bool, which: list[int]) -> tuple[np.ndarray, float]:
        be = TransformersBackend(
            model,
            tok,
            batch_size=batch_size,
            progress=False,
            shared_prefix_len=shared,
            batch_invariant=invariant,
        )
        t0 = time.perf_counter()
        ann = annotate_posts(be, [ps[i] for i in which], 600)
        secs = time.perf_counter() - t0
        return np.array([[a["p_offtopic"], a["p_left"], a["p_right"]] for a in ann]), len(which) / secs

    env = environment("float32")
    click.echo(f"{len(ps)} posts; {env['cpu']}; kernels {env['kernels']}; torch {env['torch']}\n")
    click.echo(
        "| scoring | posts/s (batch 16) | max abs diff, batch 5 | max abs diff, other post set | decisions flipped |"
    )
    click.echo("|---|---|---|---|---|")
    for invariant in (False, True):
        every = list(range(len(ps)))
        a, rate = probs(16, invariant, every)
        b, _ = probs(5, invariant, every)
        c, _ = probs(16, invariant, other)
        keep = a[:, 1:].sum(1) >= threshold
        flips = int(
            (keep != (b[:, 1:].sum(1) >= threshold)).sum()
            + (keep[other] != (c[:, 1:].sum(1) >= threshold)).sum()
        )
        name = "batch-invariant" if invariant else "plain batches"
        click.echo(
            f"| {name} | {rate:.2f} | {np.abs(a - b).max():.1e} | {np.abs(a[other] - c).max():.1e} | {flips} |"
        )


if __name__ == "__main__":
    main()
