"""Benchmark: annotation throughput (posts/s) of the CPU backends on the pipeline's own posts.

- transformers: the embedded model scores three label sentences per post (log-probs, bfloat16, batch 16);
- openai: the same model behind llama-cpp-python's OpenAI-compatible server (started here), writing a JSON
  judgement constrained by the schema, 2 requests in flight.

    python bench/annotate_speed.py --posts 64      # needs `dvc repro ingest base_model` and llama-cpp-python
"""

from __future__ import annotations

import json
import time

import click


@click.command()
@click.option("--posts", "n", default=64, show_default=True, help="Posts to annotate per backend.")
@click.option("--base", default="models/base/smollm2-135m", show_default=True)
@click.option("--concurrency", default=2, show_default=True, help="openai backend: requests in flight.")
def main(n: int, base: str, concurrency: int) -> None:
    from politune.annotate import annotate_posts, judge_posts
    from politune.io import read_jsonl
    from politune.llm.openai_backend import OpenAIBackend
    from politune.llm.transformers_backend import TransformersBackend
    from politune.models import embedded_gguf, load_model, load_tokenizer
    from politune.serving import llama_server

    posts = read_jsonl("data/interim/posts.jsonl")[:n]
    rows = []
    backend = TransformersBackend(
        load_model(base, "bfloat16"), load_tokenizer(base), batch_size=16, progress=False
    )
    t0 = time.perf_counter()
    annotate_posts(backend, posts, 600)
    rows.append(("transformers (label log-probs, bf16, batch 16)", len(posts), time.perf_counter() - t0, 0))
    with llama_server(embedded_gguf("smollm2-135m"), n_ctx=4096) as url:
        ob = OpenAIBackend(
            url,
            model="smollm2",
            concurrency=concurrency,
            response_format="json_object",
            api_key_env=None,
            timeout_s=300,
        )
        t0 = time.perf_counter()
        out = judge_posts(ob, posts, 600, 48, 2)
        failed = sum("error" in o for o in out)
        rows.append(
            (
                f"openai -> llama.cpp server (JSON schema, {concurrency} in flight)",
                len(posts),
                time.perf_counter() - t0,
                failed,
            )
        )
    click.echo(f"\n{'backend':60s} {'posts':>6s} {'seconds':>8s} {'posts/s':>8s} {'failed':>7s}")
    for name, k, secs, failed in rows:
        click.echo(f"{name:60s} {k:6d} {secs:8.1f} {k / secs:8.2f} {failed:7d}")
    click.echo(json.dumps({name: round(k / secs, 2) for name, k, secs, _ in rows}))


if __name__ == "__main__":
    main()
