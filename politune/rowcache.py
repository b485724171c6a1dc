"""A row-level cache for expensive per-row LLM work (annotation), written in chunks that survive a kill.

Each row's key hashes everything that decides its result: the row's text, the prompt template, the model and
its weights' dtype, the decoding settings and the output schema version. Completed chunks are written as
separate JSONL part files, each atomically (politune.io.atomic_path: tmp + rename), so a kill -9 loses at most
the chunk in flight. A rerun reads every part, skips the cached rows and processes the rest in the same chunk
order, so the output equals an uninterrupted run's. Changing anything downstream (a `select` threshold) never touches this cache;
changing the template, model or schema changes every key, so nothing stale is reused.

The cache folder lives outside DVC's outputs (DVC deletes a stage's outputs before rerunning it).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from politune.hashing import sha256_json, sha256_text
from politune.io import DiskFullError, atomic_path, disk_full, disk_full_errno


def context_hash(**parts: Any) -> str:
    """One hash for the template, model, decoding params and schema version shared by every row."""
    return sha256_json(parts)


class RowCache:
    def __init__(self, folder: str | Path, context: str):
        self.folder = Path(folder)
        self.context = context
        self.rows: dict[str, dict[str, Any]] = {}
        self.parts_read = 0
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".*.tmp"):  # a chunk in flight when the last run was killed
            if stale.is_dir():  # atomic_path's temporary folder
                shutil.rmtree(stale, ignore_errors=True)
            else:  # a bare temporary file (written by versions before atomic_path)
                stale.unlink(missing_ok=True)
        for part in sorted(self.folder.glob("part-*.jsonl")):
            with part.open(encoding="utf-8") as f:
                for line in f:
                    rec = json.loads(line)
                    self.rows[rec["key"]] = rec["value"]
            self.parts_read += 1

    def key(self, text: str) -> str:
        return sha256_text(self.context + "\0" + text)

    def get(self, text: str) -> dict[str, Any] | None:
        return self.rows.get(self.key(text))

    def put_chunk(self, texts: list[str], values: list[dict[str, Any]]) -> Path:
        """Write one completed chunk as its own part file, atomically."""
        recs: list[dict[str, Any]] = [
            {"key": self.key(t), "value": v} for t, v in zip(texts, values, strict=True)
        ]
        path = self.folder / f"part-{time.time_ns():020d}-{os.getpid()}.jsonl"
        try:
            # the chunk is written in a hidden temporary folder (never read: only part-*.jsonl directly in the
            # cache folder are), synced, and renamed into place only when complete
            with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
                f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in recs)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            cause = e.__cause__ if isinstance(e, DiskFullError) and e.__cause__ is not None else e
            if disk_full_errno(cause):  # name the cache folder, not the one chunk
                raise disk_full(cause, [self.folder]) from cause
            raise
        for r in recs:
            self.rows[r["key"]] = r["value"]
        return path


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_cached(
    cache: RowCache,
    rows: list[dict[str, Any]],
    text_of: Callable[[dict[str, Any]], str],
    work: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    chunk_size: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Results for every row, in order: cached ones reused, the rest computed chunk by chunk and cached."""
    todo = [r for r in rows if cache.get(text_of(r)) is None]
    cached = len(rows) - len(todo)
    written = 0
    failed: dict[
        str, dict[str, Any]
    ] = {}  # results with an "error" key are returned, never cached (retried next run)
    for chunk in chunks(todo, chunk_size):
        values = work(chunk)
        ok = [(text_of(r), v) for r, v in zip(chunk, values, strict=True) if "error" not in v]
        failed.update({text_of(r): v for r, v in zip(chunk, values, strict=True) if "error" in v})
        cache.put_chunk([t for t, _ in ok], [v for _, v in ok])
        written += 1
        if progress:
            progress(len(chunk))
    out = [cache.get(text_of(r)) or failed[text_of(r)] for r in rows]
    return out, {
        "rows": len(rows),
        "rows_cached": cached,
        "rows_computed": len(todo),
        "chunks_written": written,
        "cache_parts_read": cache.parts_read,
        "rows_failed": len(failed),
    }
