"""Stage ingest: read every corpus in params, clean, deduplicate, quarantine rejects with reasons.

    python -m stages.ingest
Outputs: data/interim/posts.jsonl, data/quarantine/ingest/<n>_<reason>.jsonl, metrics/ingest.json.
"""

from __future__ import annotations

import time

import click

from politune.corpus.ingest import FileSink, ingest
from politune.io import atomic_path
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


@click.command()
@PARAMS_OPTION
@stage("ingest")
def main(params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    # both outputs are written to temporaries and renamed into place only when ingestion completes
    with atomic_path("data/interim/posts.jsonl") as posts, atomic_path("data/quarantine/ingest") as qdir:
        sink = FileSink(posts, qdir)
        try:
            res = ingest(p.corpora, p.ingest, sink=sink, spill_dir="data/cache/ingest")  # dedup state
        finally:
            sink.close()
        for name, c in p.corpora.items():
            if res.counts["per_corpus"][name].get("kept", 0) == 0:
                where = (
                    f"packaged {c.source}; check corpora.{name}.parties, min_year, max_year and sample"
                    if c.format == "packaged"
                    else f"{c.path}; check the path and format"
                )
                raise ValueError(
                    f"corpus {name!r} ({where}) kept no posts (counts: {res.counts['per_corpus'][name]}); "
                    "or lower ingest.min_chars and ingest.min_words"
                )
    total = res.counts["total"]
    elapsed = max(time.time() - t0, 1e-9)
    write_metrics(
        "metrics/ingest.json",
        {
            **total,
            "per_corpus": res.counts["per_corpus"],
            "kept_per_side": res.counts["per_side"],
            "mix_per_side": res.counts["mix_per_side"],
            "rows_per_second": round(total.get("rows_in", 0) / elapsed),
        },
        t0,
    )


if __name__ == "__main__":
    main()
