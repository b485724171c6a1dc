"""Streaming readers for the real dump formats. Each yields `Row` or `Reject`, one per input line.

- Truth Social dataset (Gerard, Botzer, Weninger; ICWSM 2023): `truths.tsv`, tab-separated, UTF-8,
  header `id timestamp time_scraped is_retruth is_reply author like_count retruth_count reply_count
  text external_id url truth_retruthed`.
- Reddit Politosphere (Hofmann et al.; ICWSM 2022): a folder of monthly `comments_YYYY-MM.bz2`
  (or `.zst`) files, one Pushshift-style JSON object per line (`id`, `body`, `subreddit`,
  `author`, `created_utc`, ...), and a subreddit metadata file (one JSON object per line with
  `subreddit` and `party`: "dem", "rep" or null) used to keep the communities of one party.
- Generic JSONL / CSV / Parquet with `text_column` and optional `id_column`.

Readers never drop a line silently: a line that cannot be read becomes a `Reject` with its file,
line number and reason. Memory stays bounded: files are read line by line (Parquet in batches).
"""

from __future__ import annotations

import bz2
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DELETED_BODIES = {"[deleted]", "[removed]", "[deleted by user]"}
TRUTHS_REQUIRED = ("id", "text")


@dataclass
class Row:
    corpus: str
    source_file: str
    line: int
    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reject:
    corpus: str
    source_file: str
    line: int
    reason: str
    detail: str
    raw: str = ""
    # malformed = the line itself is broken (counts toward max_reject_fraction); otherwise a filter
    malformed: bool = True


Item = Row | Reject


def _decode_lines(path: Path, stream: io.BufferedIOBase) -> Iterator[tuple[int, str | None, bytes]]:
    """Yield (line_no, text or None if not UTF-8, raw bytes); strips BOM and CR/LF."""
    for n, raw in enumerate(stream, start=1):
        b = raw.rstrip(b"\n").rstrip(b"\r")
        if n == 1 and b.startswith(b"\xef\xbb\xbf"):
            b = b[3:]
        try:
            yield n, b.decode("utf-8"), b
        except UnicodeDecodeError:
            yield n, None, b


def _open_compressed(path: Path) -> io.BufferedIOBase:
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if path.suffix == ".zst":
        try:
            import zstandard
        except ImportError as e:  # pragma: no cover - optional
            raise RuntimeError(f"{path}: reading .zst needs the `zstandard` package (pip install zstandard)") from e
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(path.open("rb")))  # type: ignore[arg-type]
    return path.open("rb")


def read_truthsocial(corpus: str, path: str | Path, drop_retruths: bool, drop_replies: bool) -> Iterator[Item]:
    path = Path(path)
    with path.open("rb") as f:
        header: list[str] | None = None
        for n, line, raw in _decode_lines(path, f):
            src = str(path)
            if line is None:
                yield Reject(corpus, src, n, "bad_encoding", "not valid UTF-8", raw.decode("utf-8", "replace"))
                continue
            if header is None:
                header = line.split("\t")
                missing = [c for c in TRUTHS_REQUIRED if c not in header]
                if missing:
                    raise ValueError(
                        f"{path}: header lacks column(s) {missing}; expected the Truth Social truths.tsv header "
                        f"(id, timestamp, ..., text, ...), got {header[:6]}..."
                    )
                continue
            if not line.strip():
                yield Reject(corpus, src, n, "blank_line", "empty line", "", malformed=False)
                continue
            cells = line.split("\t")
            if len(cells) != len(header):
                yield Reject(corpus, src, n, "parse_error", f"{len(cells)} fields, header has {len(header)}", line)
                continue
            rec = dict(zip(header, cells, strict=True))
            if "\x00" in rec["text"]:
                yield Reject(corpus, src, n, "nul_byte", "NUL character inside text", line)
                continue
            if drop_retruths and rec.get("is_retruth") == "t":
                yield Reject(corpus, src, n, "retruth", "repost of another truth", "", malformed=False)
                continue
            if drop_replies and rec.get("is_reply") == "t":
                yield Reject(corpus, src, n, "reply", "reply filtered by ingest.drop_replies", "", malformed=False)
                continue
            meta = {k: rec[k] for k in ("author", "timestamp", "is_reply") if k in rec}
            yield Row(corpus, src, n, rec["id"], rec["text"], meta)


def load_party_map(path: str | Path) -> dict[str, str | None]:
    """subreddit (lower-cased) -> party, from the Politosphere subreddit metadata (JSON lines or a list)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("["):
        records = json.loads(text)
    else:
        records = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not valid JSON ({e.msg}); fix or remove that line") from None
    out: dict[str, str | None] = {}
    for r in records:
        if "subreddit" not in r:
            raise ValueError(f"{path}: a record lacks the `subreddit` field: {str(r)[:120]}")
        out[str(r["subreddit"]).lower()] = r.get("party")
    return out


def _json_line_items(corpus: str, path: Path, text_key: str, id_key: str | None) -> Iterator[tuple[Item, dict]]:
    with _open_compressed(path) as f:
        for n, line, raw in _decode_lines(path, f):
            src = str(path)
            if line is None:
                yield Reject(corpus, src, n, "bad_encoding", "not valid UTF-8", raw.decode("utf-8", "replace")), {}
                continue
            if not line.strip():
                yield Reject(corpus, src, n, "blank_line", "empty line", "", malformed=False), {}
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                yield Reject(corpus, src, n, "parse_error", f"invalid JSON: {e.msg} at char {e.pos}", line[:2000]), {}
                continue
            if not isinstance(rec, dict):
                yield Reject(corpus, src, n, "parse_error", f"JSON {type(rec).__name__}, expected an object", line[:2000]), {}
                continue
            if text_key not in rec or rec[text_key] is None:
                yield Reject(corpus, src, n, "missing_text", f"no `{text_key}` field", line[:2000]), {}
                continue
            text = rec[text_key]
            if not isinstance(text, str):
                yield Reject(corpus, src, n, "bad_type", f"`{text_key}` is {type(text).__name__}, not a string", line[:2000]), {}
                continue
            if "\x00" in text:
                yield Reject(corpus, src, n, "nul_byte", "NUL character inside text", line[:2000]), {}
                continue
            if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
                yield Reject(corpus, src, n, "bad_encoding", "lone surrogate in text", line[:2000]), {}
                continue
            rid = str(rec.get(id_key, n)) if id_key else str(n)
            yield Row(corpus, src, n, rid, text, {}), rec


def read_politosphere(corpus: str, folder: str | Path, metadata: str | Path, parties: list[str]) -> Iterator[Item]:
    folder = Path(folder)
    party_of = load_party_map(metadata)
    wanted = set(parties)
    files = sorted(p for p in folder.glob("comments_*") if p.suffix in (".bz2", ".zst", ".json", ".ndjson"))
    if not files:
        raise FileNotFoundError(f"{folder}: no comments_YYYY-MM.bz2 (or .zst) files found")
    for path in files:
        for item, rec in _json_line_items(corpus, path, "body", "id"):
            if isinstance(item, Reject):
                yield item
                continue
            sub = str(rec.get("subreddit", "")).lower()
            party = party_of.get(sub)
            if party not in wanted:
                yield Reject(corpus, item.source_file, item.line, "other_party",
                             f"r/{sub} party={party!r} not in {sorted(wanted)}", "", malformed=False)
                continue
            if item.text.strip() in DELETED_BODIES:
                item.text = ""
            item.meta = {"subreddit": rec.get("subreddit"), "author": rec.get("author"),
                         "created_utc": rec.get("created_utc")}
            yield item


def read_table(corpus: str, path: str | Path, fmt: str, text_column: str, id_column: str | None) -> Iterator[Item]:
    path = Path(path)
    if fmt == "jsonl":
        for item, _ in _json_line_items(corpus, path, text_column, id_column):
            yield item
        return
    if fmt == "csv":
        with path.open("r", encoding="utf-8-sig", newline="", errors="strict") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or text_column not in reader.fieldnames:
                raise ValueError(f"{path}: no `{text_column}` column (columns: {reader.fieldnames}); set text_column")
            for rec in reader:
                n = reader.line_num
                text = rec.get(text_column)
                if text is None:
                    yield Reject(corpus, str(path), n, "parse_error", "row has fewer fields than the header", str(rec)[:2000])
                    continue
                if "\x00" in text:
                    yield Reject(corpus, str(path), n, "nul_byte", "NUL character inside text", text[:2000])
                    continue
                rid = rec.get(id_column) if id_column else None
                yield Row(corpus, str(path), n, str(rid if rid is not None else n), text)
        return
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        n = 0
        for batch in pf.iter_batches(batch_size=65536, columns=[c for c in (text_column, id_column) if c]):
            d = batch.to_pydict()
            for i, text in enumerate(d[text_column]):
                n += 1
                if not isinstance(text, str):
                    yield Reject(corpus, str(path), n, "bad_type", f"`{text_column}` is {type(text).__name__}", "")
                    continue
                rid = d[id_column][i] if id_column else n
                yield Row(corpus, str(path), n, str(rid), text)
        return
    raise ValueError(f"unknown format {fmt!r}")
