"""Benchmark: ingest N generated posts in each real format; print rows/s and peak RSS per format.

    python bench/ingest_speed.py                      # 1,000,000 posts per format (generation is cached)
    python bench/ingest_speed.py --n 100000 --formats truthsocial,jsonl

Generated posts are random word sequences (word frequency ~ 1/rank over 20,010 words, 8-60 words) with the noise of a
real dump mixed in: 4% exact duplicates (changed case and punctuation), 2% near duplicates (one word
changed), 1% malformed lines, 1% URL-only, 1% deleted bodies; in Politosphere 30% of comments come from
subreddits of another party. Each format is ingested in its own process, so peak RSS is per format.
Targets (issue 3): >= 50,000 rows/s on 2 cores and peak RSS < 2 GB; at 10,000,000 posts (issue 20), peak
memory < 4 GB with the dedup state spilling to disk (`--spill`, the default, as in the ingest stage). The digest
column hashes every output: two runs with equal digests produced byte-identical posts and quarantine files.
"""

from __future__ import annotations

import bz2
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

FORMATS = ("truthsocial", "politosphere", "politosphere-zst", "jsonl", "csv", "parquet")
TS_HEADER = (
    "id\ttimestamp\ttime_scraped\tis_retruth\tis_reply\tauthor\tlike_count\tretruth_count\treply_count\t"
    "text\texternal_id\turl\ttruth_retruthed"
)
SYL = ["ta", "ro", "mi", "ke", "lo", "sa", "ven", "dor", "pol", "ex", "tri", "an", "cor", "de", "ul", "fin"]


def make_posts(n: int, seed: int = 0) -> list[str | None]:
    """n post texts; None marks a line to be written malformed."""
    import numpy as np

    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    words = sorted({"".join(r.choice(SYL) for _ in range(r.randint(1, 4))) for _ in range(20000)})
    common = ["the", "and", "to", "of", "we", "is", "it", "for", "that", "they"]
    vocab = np.array(common + words, dtype=object)
    # word frequencies fall as 1/rank, as in English (the commonest word is ~9% of all words)
    pr = 1.0 / np.arange(1, len(vocab) + 1)
    ranks = rng.choice(len(vocab), size=n * 40, p=pr / pr.sum())
    lens = rng.integers(8, 61, size=n)
    posts: list[str | None] = []
    pos = 0
    kinds = rng.random(n)
    for i in range(n):
        k = kinds[i]
        if k < 0.04 and posts and posts[-1]:
            posts.append(str(posts[int(rng.integers(0, len(posts)))] or "x").upper() + "!!")
            continue
        if k < 0.06 and posts and posts[-1]:
            w = (posts[int(rng.integers(0, len(posts)))] or "a b c").split()
            w[len(w) // 2] = "changed"
            posts.append(" ".join(w))
            continue
        if k < 0.07:
            posts.append(None)
            continue
        if k < 0.08:
            posts.append(f"https://example.com/{i}")
            continue
        if k < 0.09:
            posts.append("[deleted]")
            continue
        m = int(lens[i])
        if pos + m > len(ranks):
            pos = 0
        posts.append(" ".join(vocab[ranks[pos : pos + m]]) + f" #{i}")
        pos += m
    return posts


def write_format(fmt: str, posts: list[str | None], folder: Path) -> dict:
    """Write the posts in one format; return the corpus spec for params."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "truthsocial":
        path = folder / "truths.tsv"
        with path.open("w", encoding="utf-8") as f:
            f.write(TS_HEADER + "\n")
            for i, t in enumerate(posts):
                if t is None:
                    f.write(f"{i}\tbroken line\n")
                else:
                    rt = "t" if i % 50 == 0 else "f"
                    f.write(
                        f"{i}\t2022-08-01 10:00:00\t2022-09-01\t{rt}\tf\t{i % 997}\t1\t0\t0\t{t}\t\t\t-1\n"
                    )
        return {"format": "truthsocial", "path": str(path), "side": "right"}
    if fmt.startswith("politosphere"):
        meta = folder / "subreddits_metadata.json"
        meta.write_text(
            '{"subreddit": "democrats", "party": "dem"}\n{"subreddit": "Conservative", "party": "rep"}\n'
        )
        if fmt.endswith("zst"):
            import zstandard

            path = folder / "comments_2019-01.zst"
            opener: Any = zstandard.ZstdCompressor(level=3).stream_writer(path.open("wb"))
        else:
            path = folder / "comments_2019-01.bz2"
            opener = bz2.open(path, "wb", compresslevel=6)  # noqa: SIM115 (closed by the with below)
        with opener as f:
            for i, t in enumerate(posts):
                if t is None:
                    line = f'{{"id": "c{i}", "body": "truncated'
                else:
                    sub = "Conservative" if i % 10 < 3 else "democrats"
                    line = json.dumps(
                        {
                            "author": f"user{i % 5000}",
                            "body": t,
                            "created_utc": 1546300800 + i,
                            "id": f"c{i}",
                            "score": i % 40,
                            "subreddit": sub,
                        }
                    )
                f.write(line.encode() + b"\n")
        return {
            "format": "politosphere",
            "path": str(folder),
            "metadata": str(meta),
            "parties": ["dem"],
            "side": "left",
        }
    if fmt == "jsonl":
        path = folder / "posts.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for i, t in enumerate(posts):
                f.write((json.dumps({"id": i, "text": t}) if t is not None else '{"id": 1,,}') + "\n")
        return {"format": "jsonl", "path": str(path), "side": "left", "id_column": "id"}
    if fmt == "csv":
        import csv

        path = folder / "posts.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "text", "author"])
            for i, t in enumerate(posts):
                w.writerow([i, t, f"u{i}"] if t is not None else [i])
        return {"format": "csv", "path": str(path), "side": "left", "id_column": "id"}
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = folder / "posts.parquet"
        pq.write_table(pa.table({"id": list(range(len(posts))), "text": posts}), path, row_group_size=100_000)
        return {"format": "parquet", "path": str(path), "side": "left", "id_column": "id"}
    raise ValueError(fmt)


def _anon_mb() -> float:
    """This process's anonymous resident memory (its own pages, not the file pages of memory maps), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def digest(folder: Path) -> str:
    """sha256 over the posts file and every quarantine file, by name: equal digests, equal results."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode())
        fh = hashlib.sha256()
        with f.open("rb") as stream:  # in blocks: the posts file of 10 million posts is gigabytes
            while block := stream.read(1 << 24):
                fh.update(block)
        h.update(fh.digest())
    return h.hexdigest()


def run_one(spec_json: str, spill: str | None) -> None:
    """Child process: ingest one corpus into temporary files, print rows, seconds, peak RSS, peak anonymous
    memory and the outputs' digest as JSON."""
    import threading

    from politune.corpus.ingest import FileSink, ingest
    from politune.params import CorpusSpec, IngestParams

    spec = CorpusSpec(**json.loads(spec_json))
    peak_anon = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak_anon[0] = max(peak_anon[0], _anon_mb())

    threading.Thread(target=sample, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        sink = FileSink(out / "posts.jsonl", out / "quarantine")
        t0 = time.perf_counter()
        res = ingest(
            {"bench": spec},
            IngestParams(max_reject_fraction=0.5, min_words=0),
            root="/",
            sink=sink,
            spill_dir=spill,
        )
        sink.close()
        secs = time.perf_counter() - t0
        done.set()
        out_mb = (out / "posts.jsonl").stat().st_size / 1e6
        result = digest(out)
    c = res.counts["total"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": c["rows_in"],
                "kept": c.get("kept", 0),
                "seconds": secs,
                "rss_mb": rss_mb,
                "anon_mb": max(peak_anon[0], _anon_mb()),
                "out_mb": out_mb,
                "digest": result,
                "counts": c,
            }
        )
    )


@click.command()
@click.option("--n", default=1_000_000, show_default=True, help="Posts per format.")
@click.option("--formats", default=",".join(FORMATS), show_default=True)
@click.option(
    "--data", "data_dir", default=None, help="Where generated files are kept (default: a folder in /tmp)."
)
@click.option(
    "--spill/--no-spill",
    default=True,
    show_default=True,
    help="Let the dedup state spill to disk (a folder beside the data), as the ingest stage does.",
)
@click.option("--run", "run_spec", default=None, hidden=True)
@click.option("--spill-dir", default=None, hidden=True)
def main(
    n: int, formats: str, data_dir: str | None, spill: bool, run_spec: str | None, spill_dir: str | None
) -> None:
    if run_spec:
        run_one(run_spec, spill_dir)
        return
    root = Path(data_dir or Path(tempfile.gettempdir()) / f"politune-bench-ingest-{n}")
    posts: list[str | None] | None = None
    rows = []
    for fmt in formats.split(","):
        folder = root / fmt
        spec_file = folder / "spec.json"
        if not spec_file.exists():
            if posts is None:
                click.echo(f"generating {n:,} posts ...", err=True)
                posts = make_posts(n)
            t0 = time.time()
            spec = write_format(fmt, posts, folder)
            spec_file.write_text(json.dumps(spec))
            click.echo(f"wrote {fmt} in {time.time() - t0:.0f} s", err=True)
        size = sum(f.stat().st_size for f in folder.iterdir() if f.name != "spec.json") / 1e6
        env = {**os.environ, "POLITUNE_LOG": "WARNING"}
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--run",
                spec_file.read_text(),
                *(["--spill-dir", str(root / "spill")] if spill else []),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if out.returncode != 0:
            raise SystemExit(f"{fmt}: ingest failed:\n{out.stderr[-3000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((fmt, size, r))
        click.echo(f"{fmt}: {r['rows'] / r['seconds']:,.0f} rows/s", err=True)
    click.echo(
        f"\ningest, {n:,} generated posts per format, {os.cpu_count()} cores, dedup state "
        f"{'spilling to disk' if spill else 'in memory'}\n"
    )
    click.echo(
        "| format | input MB | rows | kept | seconds | rows/s | peak RSS MB | peak anonymous MB | digest |"
    )
    click.echo("|---|---|---|---|---|---|---|---|---|")
    for fmt, size, r in rows:
        click.echo(
            f"| {fmt} | {size:,.0f} | {r['rows']:,} | {r['kept']:,} | {r['seconds']:.1f} | "
            f"{r['rows'] / r['seconds']:,.0f} | {r['rss_mb']:,.0f} | {r['anon_mb']:,.0f} | {r['digest'][:12]} |"
        )
    click.echo(
        "\npeak RSS counts the pages of the spilled state's memory maps that the OS kept resident (file pages "
        "it can drop under pressure); peak anonymous memory is the process's own."
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
