"""Streaming readers for the real dump formats. Each yields `Chunk`s: up to `CHUNK_ROWS` readable rows as
columns, plus a `Reject` for every line it could not read or filtered out (never a silent drop).

- Truth Social dataset (Gerard, Botzer, Weninger; ICWSM 2023): `truths.tsv`, tab-separated, UTF-8,
  header `id timestamp time_scraped is_retruth is_reply author like_count retruth_count reply_count
  text external_id url truth_retruthed`.
- Reddit Politosphere (Hofmann et al.; ICWSM 2022): a folder of monthly `comments_YYYY-MM.bz2`
  (or `.zst`) files, one Pushshift-style JSON object per line (`id`, `body`, `subreddit`,
  `author`, `created_utc`, ...), and a subreddit metadata file (one JSON object per line with
  `subreddit` and `party`: "dem", "rep" or null) used to keep the communities of one party.
- Generic JSONL (optionally .bz2/.zst), CSV and Parquet with `text_column` and optional `id_column`.

Memory stays bounded: files are read line by line (Parquet in record batches) and handed on in chunks.
JSON is parsed with orjson; a line orjson refuses is parsed again with the standard library only to name
the reason (invalid JSON, bad UTF-8, lone surrogate).
"""

from __future__ import annotations

import bz2
import csv
import json
import queue
import sys
import threading
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson

DELETED_BODIES = {"[deleted]", "[removed]", "[deleted by user]"}
TRUTHS_REQUIRED = ("id", "text")
CHUNK_ROWS = 50_000
RAW_KEEP = 2000  # characters of a rejected line kept in quarantine


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus,
            "source_file": self.source_file,
            "line": self.line,
            "reason": self.reason,
            "detail": self.detail,
            "raw": self.raw,
        }


@dataclass
class Chunk:
    """Readable rows of one file as columns (line numbers, source ids, texts) and the rejects among them.

    Posts are traced back to their source by file and line; other columns of the dump are not carried."""

    corpus: str
    source_file: str
    lines: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    done: bool = False  # the last chunk of its file
    # per row, for labelled corpora (format packaged): side, document, speaker, party, year; None = the corpus's
    # side for every row and no document (each post is its own document)
    meta: list[dict[str, Any]] | None = None

    @property
    def rows_in(self) -> int:
        return len(self.lines) + len(self.rejects)

    def reject(self, line: int, reason: str, detail: str, raw: str = "", malformed: bool = True) -> None:
        self.rejects.append(
            Reject(self.corpus, self.source_file, line, reason, detail, raw[:RAW_KEEP], malformed)
        )

    def add(self, line: int, rid: str, text: str) -> None:
        self.lines.append(line)
        self.ids.append(rid)
        self.texts.append(text)


class _Chunker:
    """Hands out a fresh Chunk whenever the current one holds CHUNK_ROWS rows."""

    def __init__(self, corpus: str, source_file: str):
        self.corpus, self.source_file = corpus, source_file
        self.chunk = Chunk(corpus, source_file)

    def full(self) -> bool:
        return len(self.chunk.lines) + len(self.chunk.rejects) >= CHUNK_ROWS

    def take(self, done: bool = False) -> Chunk:
        c, self.chunk = self.chunk, Chunk(self.corpus, self.source_file)
        c.done = done
        return c


BLOCK = 4 << 20  # bytes read (and decompressed) at a time


def _blocks(stream: IO[bytes], threaded: bool) -> Generator[bytes, None, None]:
    """Blocks of the stream; with `threaded`, a second thread reads ahead (bz2 and zstd release the GIL while
    decompressing, so decompression runs on the second core beside parsing)."""
    blocks = iter(lambda: stream.read(BLOCK), b"")
    if not threaded:
        yield from blocks
        return
    with ReadAhead(blocks, depth=4) as ahead:
        yield from ahead


T = TypeVar("T")


class ReadAhead(Iterator[T]):
    """The items of `items`, produced by a second thread ahead of the consumer (`depth` queued, one more in
    hand); an exception in the producer is raised in the consumer, at the item where it happened. Pays where
    either side spends its time outside the GIL (decompression, polars, numpy). Use it in a `with` block:
    leaving the block early (an error, Ctrl-C) stops the producer at its next item and waits for it, and the
    producer closes `items` (its files, its own read-ahead threads) before it ends."""

    def __init__(self, items: Iterator[T], depth: int = 1):
        self._q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._over = False  # the consumer saw the end or an error, or closed
        self._thread = threading.Thread(
            target=self._work, args=(items,), daemon=True, name="politune-read-ahead"
        )
        self._thread.start()

    def _work(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as e:  # handed to the consuming thread, which raises it
            self._put(("error", e))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _put(self, entry: tuple[str, Any]) -> bool:
        """Queue an entry, unless the consumer stopped first (then False)."""
        while not self._stop.is_set():
            try:
                self._q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __next__(self) -> T:
        if self._over:
            raise StopIteration
        kind, item = self._q.get()
        if kind == "item":
            return item
        self._over = True
        if kind == "error":
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop the producer and wait until it has let go of `items` (it finishes the item in hand first)."""
        self._over = True
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lines(stream: IO[bytes], threaded: bool = False) -> Generator[tuple[int, bytes], None, None]:
    """(line number from 1, bytes without BOM and CR/LF); a last line without a newline counts too."""
    n = 0
    rest = b""
    with closing(_blocks(stream, threaded)) as blocks:  # closed (its thread stopped) when the lines are
        for block in blocks:
            parts = (rest + block).split(b"\n") if rest else block.split(b"\n")
            rest = parts.pop()
            for b in parts:
                n += 1
                if n == 1 and b.startswith(b"\xef\xbb\xbf"):
                    b = b[3:]
                yield n, b[:-1] if b.endswith(b"\r") else b
    if rest:
        n += 1
        if n == 1 and rest.startswith(b"\xef\xbb\xbf"):
            rest = rest[3:]
        yield n, rest[:-1] if rest.endswith(b"\r") else rest


def _open_compressed(path: Path) -> IO[bytes]:
    if path.suffix == ".bz2":
        return bz2.BZ2File(path, "rb")
    if path.suffix == ".zst":
        import zstandard

        return zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(
            path.open("rb"), closefd=True, read_across_frames=True
        )
    return path.open("rb", buffering=1 << 20)


def read_truthsocial(
    corpus: str, path: str | Path, drop_retruths: bool, drop_replies: bool
) -> Iterator[Chunk]:
    path = Path(path)
    src = str(path)
    ch = _Chunker(corpus, src)
    with path.open("rb", buffering=1 << 20) as f:
        header: list[str] | None = None
        ii = ti = rti = rpi = width = -1
        for n, b in _lines(f):
            if ch.full():  # rejects count too: a file of bad lines still goes out in bounded chunks
                yield ch.take()
            c = ch.chunk
            try:
                line = b.decode("utf-8")
            except UnicodeDecodeError as e:
                c.reject(
                    n, "bad_encoding", f"not valid UTF-8 at byte {e.start}", b.decode("utf-8", "replace")
                )
                continue
            if header is None:
                header = line.split("\t")
                missing = [col for col in TRUTHS_REQUIRED if col not in header]
                if missing:
                    raise ValueError(
                        f"{path}: header lacks column(s) {missing}; expected the Truth Social truths.tsv header "
                        f"(id, timestamp, ..., text, ...), got {header[:6]}..."
                    )
                idx = {name: i for i, name in enumerate(header)}
                ii, ti = idx["id"], idx["text"]
                rti, rpi = idx.get("is_retruth", -1), idx.get("is_reply", -1)
                width = len(header)
                continue
            if not line.strip():
                c.reject(n, "blank_line", "empty line", malformed=False)
                continue
            cells = line.split("\t")
            if len(cells) != width:
                c.reject(n, "parse_error", f"{len(cells)} fields, header has {width}", line)
                continue
            text = cells[ti]
            if "\x00" in text:
                c.reject(n, "nul_byte", "NUL character inside text", line)
            elif drop_retruths and rti >= 0 and cells[rti] == "t":
                c.reject(n, "retruth", "repost of another truth", malformed=False)
            elif drop_replies and rpi >= 0 and cells[rpi] == "t":
                c.reject(n, "reply", "reply filtered by ingest.drop_replies", malformed=False)
            else:
                c.add(n, _id(cells[ii], n), text)
    yield ch.take(done=True)


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


def _parse_json_line(b: bytes) -> tuple[dict | None, str, str]:
    """(record, reason, detail): record None with a reason when the line cannot be used as an object."""
    try:
        rec = orjson.loads(b)
    except orjson.JSONDecodeError:
        try:
            line = b.decode("utf-8")
        except UnicodeDecodeError as e:
            return None, "bad_encoding", f"not valid UTF-8 at byte {e.start}"
        try:
            rec = json.loads(line)  # accepts what orjson refuses on purpose: lone surrogates, NaN
        except json.JSONDecodeError as e:
            return None, "parse_error", f"invalid JSON: {e.msg} at char {e.pos}"
        except RecursionError:
            return None, "parse_error", "invalid JSON: nested too deeply"
        if _has_surrogate(json.dumps(rec, ensure_ascii=False)):  # in any field: ids and subreddits too
            return None, "bad_encoding", "lone surrogate in the record"
    if not isinstance(rec, dict):
        return None, "parse_error", f"JSON {type(rec).__name__}, expected an object"
    return rec, "", ""


def _id(value: Any, line: int) -> str:
    """The row's id, or its line number when the id is missing, null or empty (ids must tell rows apart)."""
    return str(line) if value is None or value == "" else str(value)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _json_records(ch: _Chunker, path: Path, text_key: str) -> Iterator[tuple[int, dict, str] | None]:
    """Yield (line, record, text) for usable lines, or None when the current chunk is full (take it);
    rejects go into the current chunk. A corrupt compressed file stops with an error naming it."""
    try:
        # the lines (and their read-ahead thread) are closed before the file: no thread reads a closed stream
        with (
            _open_compressed(path) as f,
            closing(_lines(f, threaded=path.suffix in (".bz2", ".zst"))) as lines,
        ):
            for n, b in lines:
                if ch.full():
                    yield None
                c = ch.chunk
                if not b.strip():
                    c.reject(n, "blank_line", "empty line", malformed=False)
                    continue
                rec, reason, detail = _parse_json_line(b)
                if rec is None:
                    c.reject(n, reason, detail, b.decode("utf-8", "replace"))
                    continue
                text = rec.get(text_key)
                if text is None:
                    c.reject(n, "missing_text", f"no `{text_key}` field", b.decode("utf-8", "replace"))
                elif not isinstance(text, str):
                    c.reject(
                        n,
                        "bad_type",
                        f"`{text_key}` is {type(text).__name__}, not a string",
                        b.decode("utf-8", "replace"),
                    )
                elif "\x00" in text:
                    c.reject(n, "nul_byte", "NUL character inside text", b.decode("utf-8", "replace"))
                else:  # lone surrogates anywhere in the record were rejected by _parse_json_line
                    yield n, rec, text
    except Exception as e:
        # bz2 raises OSError/EOFError on damage, zstandard its ZstdError: name the file
        damaged = isinstance(e, OSError | EOFError) and not isinstance(e, FileNotFoundError | PermissionError)
        if path.suffix not in (".bz2", ".zst") or not (damaged or type(e).__name__ == "ZstdError"):
            raise
        raise ValueError(
            f"{path}: cannot decompress ({type(e).__name__}: {e}); the file is corrupt or cut "
            f"short. Fix or remove the file, then rerun"
        ) from e


def read_politosphere(
    corpus: str, folder: str | Path, metadata: str | Path, parties: list[str]
) -> Iterator[Chunk]:
    folder = Path(folder)
    party_of = load_party_map(metadata)
    wanted = set(parties)
    files = sorted(p for p in folder.glob("comments_*") if p.suffix in (".bz2", ".zst", ".json", ".ndjson"))
    if not files:
        raise FileNotFoundError(f"{folder}: no comments_YYYY-MM.bz2 (or .zst) files found")
    for path in files:
        ch = _Chunker(corpus, str(path))
        for item in _json_records(ch, path, "body"):
            if item is None:
                yield ch.take()
                continue
            n, rec, text = item
            sub = str(rec.get("subreddit", ""))
            party = party_of.get(sub.lower())
            if party not in wanted:
                ch.chunk.reject(
                    n, "other_party", f"r/{sub} party={party!r} not in {sorted(wanted)}", malformed=False
                )
            else:
                ch.chunk.add(n, _id(rec.get("id"), n), "" if text.strip() in DELETED_BODIES else text)
        yield ch.take(done=True)


def read_table(
    corpus: str, path: str | Path, fmt: str, text_column: str, id_column: str | None
) -> Iterator[Chunk]:
    path = Path(path)
    ch = _Chunker(corpus, str(path))
    if fmt == "jsonl":
        for item in _json_records(ch, path, text_column):
            if item is None:
                yield ch.take()
                continue
            n, rec, text = item
            ch.chunk.add(n, _id(rec.get(id_column) if id_column else None, n), text)
    elif fmt == "csv":
        yield from _read_csv(ch, path, text_column, id_column)
    elif fmt == "parquet":
        yield from _read_parquet(ch, path, text_column, id_column)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    yield ch.take(done=True)


def _read_csv(ch: _Chunker, path: Path, text_column: str, id_column: str | None) -> Iterator[Chunk]:
    csv.field_size_limit(sys.maxsize)
    with path.open("r", encoding="utf-8-sig", newline="", errors="surrogateescape") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: the file is empty (not even a header line); check the corpus path")
        if text_column not in header:
            raise ValueError(
                f"{path}: no `{text_column}` column (columns: {header}); set text_column for this corpus"
            )
        ti = header.index(text_column)
        if id_column is not None and id_column not in header:
            raise ValueError(
                f"{path}: no `{id_column}` column (columns: {header}); fix id_column for this corpus"
            )
        ii = header.index(id_column) if id_column else -1
        width = len(header)
        for cells in reader:
            if ch.full():
                yield ch.take()
            n = reader.line_num
            c = ch.chunk
            if not cells:
                c.reject(n, "blank_line", "empty line", malformed=False)
                continue
            text = cells[ti] if len(cells) > ti else None
            if len(cells) != width or text is None:
                c.reject(n, "parse_error", f"{len(cells)} fields, header has {width}", ",".join(cells))
            elif _has_surrogate(text) or (ii >= 0 and _has_surrogate(cells[ii])):
                c.reject(
                    n, "bad_encoding", "not valid UTF-8", ",".join(cells).encode("utf-8", "replace").decode()
                )
            elif "\x00" in text:
                c.reject(n, "nul_byte", "NUL character inside text", text)
            else:
                c.add(n, _id(cells[ii] if ii >= 0 else None, n), text)


def _read_parquet(ch: _Chunker, path: Path, text_column: str, id_column: str | None) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    for col in (text_column, id_column):
        if col is not None and col not in names:
            raise ValueError(
                f"{path}: no `{col}` column (columns: {names}); set text_column/id_column for this corpus"
            )
    n = 0
    for batch in pf.iter_batches(batch_size=CHUNK_ROWS, columns=[c for c in (text_column, id_column) if c]):
        texts = batch.column(text_column).to_pylist()
        ids = batch.column(id_column).to_pylist() if id_column else None
        c = ch.chunk
        for i, text in enumerate(texts):
            n += 1  # parquet has no lines: the row number, from 1
            if text is None:
                c.reject(n, "missing_text", f"`{text_column}` is null")
            elif not isinstance(text, str):
                c.reject(n, "bad_type", f"`{text_column}` is {type(text).__name__}, not a string", str(text))
            elif "\x00" in text:
                c.reject(n, "nul_byte", "NUL character inside text", text)
            else:
                c.add(n, _id(ids[i] if ids is not None else None, n), text)
        yield ch.take()
