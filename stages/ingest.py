"""Stage ingest: read every corpus in params, clean, deduplicate, quarantine rejects with reasons.

    python -m stages.ingest
Outputs: data/interim/posts.jsonl, data/quarantine/ingest/<n>_<reason>.jsonl, metrics/ingest.json.
"""

from __future__ import annotations

import time

import click

from politune.corpus.ingest import ingest
from politune.io import atomic_path, write_jsonl
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


@click.command()
@PARAMS_OPTION
@stage("ingest")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    res = ingest(p.corpora, p.ingest)
    per_side = res.counts["per_side"]
    for name, c in p.corpora.items():
        if res.counts["per_corpus"][name].get("kept", 0) == 0:
            raise ValueError(
                f"corpus {name!r} ({c.path}) kept no posts (counts: {res.counts['per_corpus'][name]}); "
                "check the path and format, or lower ingest.min_chars"
            )
    with atomic_path("data/quarantine/ingest") as qdir:
        qdir.mkdir()
        for n, reason in enumerate(sorted(res.rejects), start=1):
            write_jsonl(qdir / f"{n:02d}_{reason}.jsonl", res.rejects[reason])
    write_jsonl("data/interim/posts.jsonl", res.posts)
    write_metrics("metrics/ingest.json", {**res.counts["total"], "per_corpus": res.counts["per_corpus"],
                                          "kept_per_side": per_side}, t0)


if __name__ == "__main__":
    main()
