"""Ingest: read every configured corpus, clean, deduplicate, and account for every row, in bounded memory.

Readers hand over chunks of up to 50,000 rows. A second thread reads each chunk, cleans and filters it with
polars expressions and sketches it (MinHash), all without the dedup state, while the main thread
deduplicates the chunk before it (exact keys, then near duplicates) against everything kept so far and
writes it to a `Sink` (files for the stage, memory for tests). Memory holds up to three chunks (one being
deduplicated, one queued, one being read) plus the dedup state:
a 64-bit key per kept post, its band keys and its shingle hashes (about 1 KB per kept post); given a spill
folder, that state goes to disk once it passes a few hundred MB (politune.corpus.spill).

Counts add up: rows_in = kept + sum(rejected.<reason>), per corpus and in total (checked before returning).
Posts and rejects come out in input order, so the output is identical from run to run.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, cast

import numpy as np
import polars as pl
from polars.expr.whenthen import ChainedThen, Then
from tqdm import tqdm

from politune.corpus.clean import (
    NearDupIndex,
    Sketch,
    clean_series,
    dedup_keys,
    normalized,
    truncate,
    url_only,
    word_counts,
)
from politune.corpus.packaged import read_packaged
from politune.corpus.readers import (
    RAW_KEEP,
    Chunk,
    ReadAhead,
    Reject,
    read_politosphere,
    read_table,
    read_truthsocial,
)
from politune.corpus.spill import AppendArray, KeyRuns, spill_folder
from politune.params import CorpusSpec, IngestParams
from politune.records import Post

log = logging.getLogger(__name__)

# frequent English function words: the `language: en` filter keeps posts where enough words are among them
EN_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "like",
        "more",
        "most",
        "my",
        "no",
        "not",
        "now",
        "of",
        "on",
        "one",
        "only",
        "or",
        "our",
        "out",
        "people",
        "so",
        "some",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


class RejectFractionError(RuntimeError):
    pass


class Sink(Protocol):
    def write_posts(self, df: pl.DataFrame) -> None: ...
    def write_rejects(self, rejects: list[Reject]) -> None: ...


@dataclass
class MemorySink:
    posts: list[Post] = field(default_factory=list)
    rejects: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def write_posts(self, df: pl.DataFrame) -> None:
        self.posts.extend(cast(list[Post], df.to_dicts()))

    def write_rejects(self, rejects: list[Reject]) -> None:
        for r in rejects:
            self.rejects[r.reason].append(r.as_dict())


class FileSink:
    """Posts to one JSONL file; rejects to `<quarantine>/<n>_<reason>.jsonl` (n by sorted reason, on close)."""

    def __init__(self, posts_path: str | Path, quarantine_dir: str | Path):
        self.posts_path = Path(posts_path)
        self.qdir = Path(quarantine_dir)
        self.qdir.mkdir(parents=True, exist_ok=True)
        self._posts: IO[bytes] = self.posts_path.open("wb")
        self._q: dict[str, IO[bytes]] = {}

    def write_posts(self, df: pl.DataFrame) -> None:
        if len(df):
            df.write_ndjson(self._posts)

    def write_rejects(self, rejects: list[Reject]) -> None:
        by_reason: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rejects:
            by_reason[r.reason].append(r.as_dict())
        for reason, rows in by_reason.items():
            if reason not in self._q:
                self._q[reason] = (self.qdir / f"{reason}.jsonl.part").open("wb")
            pl.DataFrame(rows, schema=_REJECT_SCHEMA).write_ndjson(self._q[reason])

    def close(self) -> None:
        self._posts.close()
        for n, reason in enumerate(sorted(self._q), start=1):
            self._q[reason].close()
            (self.qdir / f"{reason}.jsonl.part").rename(self.qdir / f"{n:02d}_{reason}.jsonl")


_REJECT_SCHEMA = {
    "corpus": pl.String,
    "source_file": pl.String,
    "line": pl.Int64,
    "reason": pl.String,
    "detail": pl.String,
    "raw": pl.String,
}


@dataclass
class IngestResult:
    counts: dict[str, Any]
    sink: Sink

    @property
    def posts(self) -> list[Post]:
        assert isinstance(self.sink, MemorySink), "posts are in memory only with a MemorySink"
        return self.sink.posts

    @property
    def rejects(self) -> dict[str, list[dict[str, Any]]]:
        assert isinstance(self.sink, MemorySink), "rejects are in memory only with a MemorySink"
        return self.sink.rejects


def iter_corpus(name: str, spec: CorpusSpec, p: IngestParams, root: str = ".") -> Iterator[Chunk]:
    if spec.format == "packaged":
        assert spec.source is not None and isinstance(spec.parties, dict), "checked by politune.params"
        return read_packaged(
            name, spec.source, spec.parties, spec.passage_chars, spec.min_year, spec.max_year
        )
    path = f"{root}/{spec.path}"
    if spec.format == "truthsocial":
        return read_truthsocial(name, path, p.drop_retruths, p.drop_replies)
    if spec.format == "politosphere":
        assert not isinstance(spec.parties, dict), "checked by politune.params"
        return read_politosphere(name, path, f"{root}/{spec.metadata}", spec.parties or [])
    return read_table(name, path, spec.format, spec.text_column, spec.id_column)


def post_id(corpus: str, rid: str) -> str:
    return hashlib.sha1(f"{corpus}\x1f{rid}".encode()).hexdigest()[:16]


class _Deduper:
    """Exact keys (64-bit hashes) and near duplicates (MinHash LSH), across all corpora; the state spills to
    `spill` (a folder) once it passes a few hundred MB, so memory does not grow with the corpus.

    Exact: key -> entry (the first post with that key); an entry holds that post's id and, when the post was
    itself quarantined as a near duplicate, the kept ordinal it resembles (else -1). Post ids are 16 hex digits
    (`post_id`), held as uint64."""

    def __init__(self, threshold: float, spill: Path | None = None):
        self.exact = KeyRuns(spill, max_owners=1)  # dedup key -> entry
        self.entry_id = AppendArray(np.uint64, spill)
        self.entry_near = AppendArray(np.int64, spill)
        self.near = NearDupIndex(threshold, spill=spill)
        self.near_ids = AppendArray(np.uint64, spill)  # kept ordinal -> post id

    def release(self) -> None:
        """After each chunk: the pages of the spilled state that it touched leave the resident set."""
        self.near.release()
        self.exact.release()
        for a in (self.entry_id, self.entry_near, self.near_ids):
            a.release()

    def first_of(self, entries: np.ndarray) -> list[str]:
        """How exact duplicates name the posts they repeat (one name per entry)."""
        first = self.entry_id.take(entries)
        near = self.entry_near.take(entries)
        resembles = np.zeros(len(entries), dtype=np.uint64)
        resembles[near >= 0] = self.near_ids.take(near[near >= 0])
        # an entry quarantined itself as a near duplicate: say which kept post it resembles
        return [
            f"{f:016x}" + (f" (quarantined as a near duplicate of {r:016x})" if n >= 0 else "")
            for f, n, r in zip(first.tolist(), near.tolist(), resembles.tolist(), strict=True)
        ]

    def exact_pass(self, keys: np.ndarray, alive: np.ndarray, ids: list[str]) -> tuple[np.ndarray, list[str]]:
        """Exact duplicates among the alive rows, in input order: against earlier chunks, then within this one.
        Returns (duplicate rows, the detail of each); the other alive rows become entries (`add_entries`)."""
        rows = np.flatnonzero(alive)
        ks = keys[rows].astype(np.uint64)
        order = np.argsort(ks, kind="stable")
        found, entry = self.exact.lookup(ks[order])  # sorted positions -> the entry of an earlier chunk
        earlier = np.full(len(rows), -1, dtype=np.int64)
        earlier[order[found]] = entry
        # within the chunk: a row whose key came earlier in the chunk repeats that first row
        sorted_ks = ks[order]
        group = np.ones(len(rows), dtype=bool)  # where a key's rows begin, in sorted order
        group[1:] = sorted_ks[1:] != sorted_ks[:-1]
        first = np.empty(
            len(rows), dtype=np.int64
        )  # the stable sort puts a key's first row first in its group
        first[order] = order[np.flatnonzero(group)[np.cumsum(group) - 1]]
        dup = np.flatnonzero((earlier >= 0) | (first != np.arange(len(rows))))
        named = iter(self.first_of(earlier[dup][earlier[dup] >= 0]))
        details = [
            f"same text as post {next(named) if earlier[j] >= 0 else ids[rows[first[j]]]}"
            for j in dup.tolist()
        ]
        return rows[dup], details

    def add_entries(
        self, keys: np.ndarray, rows: np.ndarray, id_nums: np.ndarray, near_of: dict[int, int]
    ) -> None:
        """Record rows (the chunk's first posts of their exact keys, in input order) as entries; `id_nums`: the
        chunk's post ids as uint64; `near_of`: row -> the kept ordinal it was found a near duplicate of."""
        base = len(self.entry_id)
        self.entry_id.extend(id_nums[rows])
        self.entry_near.extend(np.array([near_of.get(r, -1) for r in rows.tolist()], dtype=np.int64))
        ks = keys[rows].astype(np.uint64)
        order = np.argsort(ks, kind="stable")
        self.exact.add(ks[order], base + order.astype(np.int64))


def _filter_reasons(cleaned: pl.Series, norm: pl.Series, p: IngestParams) -> tuple[pl.Series, pl.Series]:
    """(reason or null per row, detail or null per row) for the content filters, first failing one wins."""
    df = pl.DataFrame(
        {
            "c": cleaned,
            "k": norm,
            "n": cleaned.str.len_chars(),
            "w": word_counts(norm),
            "url": url_only(cleaned),
        }
    )
    reason: Then | ChainedThen = pl.when(pl.col("c") == "").then(pl.lit("deleted"))
    detail: Then | ChainedThen = pl.when(pl.col("c") == "").then(pl.lit("empty or deleted body"))
    reason = reason.when(pl.col("url")).then(pl.lit("url_only"))
    detail = detail.when(pl.col("url")).then(pl.lit("only links, no text"))
    short = pl.col("n") < p.min_chars
    reason = reason.when(short).then(pl.lit("too_short"))
    detail = detail.when(short).then(
        pl.format("{} chars < ingest.min_chars={}", pl.col("n"), pl.lit(p.min_chars))
    )
    few = pl.col("w") < p.min_words
    reason = reason.when(few).then(pl.lit("too_few_words"))
    detail = detail.when(few).then(
        pl.format("{} words < ingest.min_words={}", pl.col("w"), pl.lit(p.min_words))
    )
    if p.language == "en":
        share = (
            pl.col("k")
            .str.split(" ")
            .list.eval(pl.element().is_in(list(EN_STOPWORDS)))
            .list.mean()
            .fill_null(0.0)
        )
        other = (pl.col("w") >= 5) & (share < p.min_stopword_share)
        reason = reason.when(other).then(pl.lit("not_english"))
        detail = detail.when(other).then(
            pl.format(
                "English function-word share {} < ingest.min_stopword_share={}",
                share.round(2),
                pl.lit(p.min_stopword_share),
            )
        )
    out = df.select(reason.otherwise(None).alias("reason"), detail.otherwise(None).alias("detail"))
    return out["reason"], out["detail"]


def sample_keep(ids: list[str], fraction: float, seed: int) -> np.ndarray:
    """True for the posts a seeded hash of their id keeps at this fraction: the same posts on every run and in
    any chunking, and a smaller fraction keeps a subset of a larger one's posts."""
    if fraction >= 1.0:
        return np.ones(len(ids), dtype=bool)
    h = [
        int.from_bytes(hashlib.blake2b(f"{seed}\x1f{i}".encode(), digest_size=8).digest(), "big") for i in ids
    ]
    return np.array(h, dtype=np.uint64) < np.uint64(int(fraction * 2**64 - 1))


@dataclass
class _Prepared:
    """What a chunk needs before deduplication, computed without the dedup state (so on the read-ahead thread):
    cleaned and normalized texts, filter verdicts, exact keys, post ids, and the MinHash sketch of the rows
    that passed the filters."""

    chunk: Chunk
    cleaned: pl.Series
    truncated: pl.Series
    keys: np.ndarray
    reason: list[Any]  # str, or None while the row passes (then detail is None too)
    detail: list[Any]
    alive: np.ndarray
    ids: list[str]
    id_nums: np.ndarray  # the post ids as integers (post_id: 16 hex digits)
    sketch: Sketch | None


def _prepare(chunk: Chunk, spec: CorpusSpec, p: IngestParams, near: NearDupIndex) -> _Prepared:
    if not chunk.lines:
        empty = pl.Series([], dtype=pl.String)
        none = np.empty(0, np.uint64)
        return _Prepared(chunk, empty, empty, none, [], [], np.zeros(0, bool), [], none, None)
    cleaned = clean_series(chunk.texts)
    truncated = cleaned.str.len_chars() > p.max_chars
    cleaned = truncate(cleaned, p.max_chars)
    norm = normalized(cleaned)
    reason, detail = _filter_reasons(cleaned, norm, p)
    reason_l, detail_l = reason.to_list(), detail.to_list()
    alive = np.array([r is None for r in reason_l], dtype=bool)
    ids = [post_id(chunk.corpus, rid) for rid in chunk.ids]
    # a seeded sample of the posts that passed the filters, before deduplication (corpora.<name>.sample)
    for i in np.flatnonzero(alive & ~sample_keep(ids, spec.sample, p.sample_seed)):
        alive[i] = False
        reason_l[i], detail_l[i] = (
            "sampled_out",
            f"not in the corpora.{chunk.corpus}.sample={spec.sample} sample",
        )
    id_nums = np.frombuffer(bytes.fromhex("".join(ids)), dtype=">u8").astype(np.uint64)
    keys = dedup_keys(norm).to_numpy()
    sketch = near.sketch(norm, np.flatnonzero(alive))
    return _Prepared(chunk, cleaned, truncated, keys, reason_l, detail_l, alive, ids, id_nums, sketch)


def _process_chunk(
    prep: _Prepared,
    spec: CorpusSpec,
    dd: _Deduper,
    counts: Counter,
    sink: Sink,
    per_group: Counter | None = None,
) -> None:
    chunk = prep.chunk
    rejects = list(chunk.rejects)
    counts["rows_in"] += chunk.rows_in
    if prep.sketch is not None:
        cleaned, truncated, keys, ids, id_nums = (
            prep.cleaned,
            prep.truncated,
            prep.keys,
            prep.ids,
            prep.id_nums,
        )
        reason_l, detail_l, alive = prep.reason, prep.detail, prep.alive
        # exact duplicates, in input order: against earlier chunks, then within this one
        dup_rows, dup_details = dd.exact_pass(keys, alive, ids)
        for r, d in zip(dup_rows.tolist(), dup_details, strict=True):
            alive[r] = False
            reason_l[r], detail_l[r] = "duplicate", d
        firsts = np.flatnonzero(alive)  # each the first post of its exact key
        kept, matches = dd.near.add_sketched(prep.sketch, alive)
        kept_rows = np.flatnonzero(kept)
        dd.near_ids.extend(id_nums[kept_rows])
        resembled = dd.near_ids.take(np.array([ordinal for _, ordinal, _ in matches], dtype=np.int64))
        for (row, _, sim), other in zip(matches, resembled.tolist(), strict=True):
            reason_l[row], detail_l[row] = "near_duplicate", f"Jaccard {sim:.2f} with post {other:016x}"
        dd.add_entries(keys, firsts, id_nums, {row: ordinal for row, ordinal, _ in matches})
        dd.release()
        for i in np.flatnonzero(~kept):
            rejects.append(
                Reject(
                    chunk.corpus,
                    chunk.source_file,
                    chunk.lines[i],
                    reason_l[i],
                    detail_l[i],
                    chunk.texts[i][:RAW_KEEP],
                    malformed=False,
                )
            )
        rejects.sort(key=lambda r: r.line)
        counts["truncated"] += int(truncated.gather(kept_rows).sum())
        counts["kept"] += len(kept_rows)
        idx = pl.Series(kept_rows, dtype=pl.UInt32)
        meta = [chunk.meta[i] for i in kept_rows] if chunk.meta is not None else [{}] * len(kept_rows)
        posts = pl.DataFrame(
            {
                "corpus": pl.Series([chunk.corpus] * len(kept_rows), dtype=pl.String),
                "document": pl.Series([m.get("document") for m in meta], dtype=pl.String),
                "line": pl.Series(chunk.lines, dtype=pl.Int64).gather(idx),
                "party": pl.Series([m.get("party") for m in meta], dtype=pl.String),
                "post_id": pl.Series(ids, dtype=pl.String).gather(idx),
                "side": pl.Series([m.get("side", spec.side) for m in meta], dtype=pl.String),
                "source_file": pl.Series([chunk.source_file] * len(kept_rows), dtype=pl.String),
                "source_id": pl.Series(chunk.ids, dtype=pl.String).gather(idx),
                "speaker": pl.Series([m.get("speaker") for m in meta], dtype=pl.String),
                "text": cleaned.gather(idx),
                "truncated": truncated.gather(idx),
                "year": pl.Series([m.get("year") for m in meta], dtype=pl.Int64),
            }
        )
        if per_group is not None:
            for side, party, year in zip(posts["side"], posts["party"], posts["year"], strict=True):
                per_group[(side, party, None if year is None else year // 10 * 10)] += 1
        sink.write_posts(posts)
    for r in rejects:
        counts[f"rejected.{r.reason}"] += 1
    sink.write_rejects(rejects)


def ingest(
    corpora: dict[str, CorpusSpec],
    p: IngestParams,
    root: str = ".",
    sink: Sink | None = None,
    spill_dir: str | Path | None = None,
) -> IngestResult:
    """Read, clean and deduplicate every corpus into `sink` (a MemorySink when None). Returns the counts.
    `spill_dir`: where the dedup state goes once it outgrows a few hundred MB (a temporary folder inside it,
    removed at the end); None keeps it all in memory."""
    tmp = spill_folder(spill_dir)
    try:
        return _ingest(
            corpora, p, root, sink, _Deduper(p.near_dup_threshold, Path(tmp.name) if tmp else None)
        )
    finally:
        if tmp is not None:
            tmp.cleanup()


def _ingest(
    corpora: dict[str, CorpusSpec], p: IngestParams, root: str, sink: Sink | None, dd: _Deduper
) -> IngestResult:
    sink = sink if sink is not None else MemorySink()
    per_corpus: dict[str, Counter] = {}
    groups: dict[str, Counter] = defaultdict(Counter)  # corpus -> (side, party, decade) -> kept posts
    for name, spec in corpora.items():
        counts = per_corpus[name] = Counter()
        log.info("ingest: reading corpus %s (%s) from %s", name, spec.format, spec.path or spec.source)
        file_rows: Counter = Counter()
        file_bad: Counter = Counter()
        first_bad: dict[str, list[int]] = defaultdict(list)
        # the next chunk is read, cleaned and sketched on a second thread while this one is deduplicated (the
        # reader is not bound to a name here: the read-ahead thread closes it, files and all, when it stops)
        with (
            tqdm(desc=f"ingest {name}", unit=" rows", mininterval=2, unit_scale=True) as bar,
            ReadAhead(_prepare(c, spec, p, dd.near) for c in iter_corpus(name, spec, p, root)) as preps,
        ):
            for prep in preps:
                chunk = prep.chunk
                _process_chunk(prep, spec, dd, counts, sink, groups[name])
                bar.update(chunk.rows_in)
                bar.set_postfix(kept=counts["kept"], refresh=False)
                f = chunk.source_file
                file_rows[f] += chunk.rows_in
                for r in chunk.rejects:
                    if r.malformed:
                        file_bad[f] += 1
                        if len(first_bad[f]) < 5:
                            first_bad[f].append(r.line)
                if chunk.done:
                    _check_reject_fraction(f, file_bad[f], file_rows[f], first_bad[f], p.max_reject_fraction)
        if counts["rows_in"] == 0:
            raise ValueError(
                f"corpus {name!r}: {spec.path or spec.source} holds no rows (empty, or a header line "
                f"only); check corpora.{name}.path (or .source) and corpora.{name}.format"
            )
        rejected = sum(v for k, v in counts.items() if k.startswith("rejected."))
        if counts["rows_in"] != counts["kept"] + rejected:
            raise RuntimeError(f"ingest accounting broken for {name}: {dict(counts)}")
    total: Counter = Counter()
    for c in per_corpus.values():
        total.update(c)
    per_side: Counter = Counter()
    mix: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for name, g in groups.items():
        for (side, party, decade), k in sorted(g.items(), key=lambda kv: str(kv[0])):
            per_side[side] += k
            label = f"{name}" + (f" ({party})" if party else "")
            mix[side][label][str(decade) if decade is not None else "undated"] = k
    counts_out = {
        "total": dict(total),
        "per_corpus": {k: dict(v) for k, v in per_corpus.items()},
        "per_side": dict(per_side),
        "mix_per_side": {s: dict(v) for s, v in sorted(mix.items())},
    }
    return IngestResult(counts_out, sink)


def _check_reject_fraction(path: str, bad: int, rows: int, first: list[int], limit: float) -> None:
    frac = bad / max(rows, 1)
    if frac > limit:
        raise RejectFractionError(
            f"{path}: {bad} of {rows} rows ({frac:.0%}) could not be read (first at lines {first}); above "
            f"ingest.max_reject_fraction={limit}. Check the file's format and the corpus `format` in params, "
            "or raise ingest.max_reject_fraction."
        )
