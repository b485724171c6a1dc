"""The row cache: chunks written atomically, a crash loses only the chunk in flight, a rerun reuses the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from politune.rowcache import RowCache, context_hash, run_cached

ROWS = [{"text": f"post number {i}"} for i in range(10)]


def square_len(chunk: list[dict]) -> list[dict]:
    return [{"n": len(r["text"]) ** 2} for r in chunk]


def test_crash_then_resume_reuses_finished_chunks(tmp_path: Path) -> None:
    ctx = context_hash(template="t1", model="m", schema=1)
    calls: list[int] = []

    def crashing(chunk: list[dict]) -> list[dict]:
        calls.append(len(chunk))
        if len(calls) == 3:
            raise RuntimeError("killed")
        return square_len(chunk)

    with pytest.raises(RuntimeError):
        run_cached(RowCache(tmp_path, ctx), ROWS, lambda r: r["text"], crashing, chunk_size=3)
    (tmp_path / ".part-half-written.jsonl.tmp").write_text('{"key": "x", "val')  # a chunk in flight at a kill
    cache = RowCache(tmp_path, ctx)
    assert len(cache.rows) == 6 and cache.parts_read == 2 and not list(tmp_path.glob(".*.tmp"))
    out, counts = run_cached(cache, ROWS, lambda r: r["text"], square_len, chunk_size=3)
    assert out == square_len(ROWS)
    assert counts == {
        "rows": 10,
        "rows_cached": 6,
        "rows_computed": 4,
        "chunks_written": 2,
        "cache_parts_read": 2,
        "rows_failed": 0,
    }


def test_other_context_reuses_nothing(tmp_path: Path) -> None:
    run_cached(RowCache(tmp_path, context_hash(template="t1")), ROWS, lambda r: r["text"], square_len, 4)
    _, counts = run_cached(
        RowCache(tmp_path, context_hash(template="t2")), ROWS, lambda r: r["text"], square_len, 4
    )
    assert counts["rows_cached"] == 0 and counts["rows_computed"] == 10


def test_failures_are_returned_not_cached(tmp_path: Path) -> None:
    ctx = context_hash(template="t1")

    def half_fail(chunk: list[dict]) -> list[dict]:
        return [{"error": "invalid_json"} if "3" in r["text"] else {"n": 1} for r in chunk]

    out, counts = run_cached(RowCache(tmp_path, ctx), ROWS, lambda r: r["text"], half_fail, 4)
    assert out[3] == {"error": "invalid_json"} and counts["rows_failed"] == 1
    _, again = run_cached(RowCache(tmp_path, ctx), ROWS, lambda r: r["text"], square_len, 4)
    assert again["rows_cached"] == 9 and again["rows_computed"] == 1  # the failed row is tried again


def test_a_chunk_killed_mid_write_is_never_read_and_is_cleaned_up(tmp_path: Path) -> None:
    """A chunk is written in atomic_path's hidden temporary folder; a kill -9 leaves that folder (no clean-up
    runs): the next RowCache removes it without reading it."""
    ctx = context_hash(template="t1")
    cache = RowCache(tmp_path, ctx)
    part = cache.put_chunk(["a"], [{"n": 1}])
    assert [f.name for f in tmp_path.iterdir()] == [part.name]  # no temporary left behind
    killed = tmp_path / ".part-00000000000000000001-1.jsonl.abc123.tmp"
    killed.mkdir()
    whole = json.dumps({"key": cache.key("b"), "value": {"n": 2}})
    (killed / "part-00000000000000000001-1.jsonl").write_text(whole + '\n{"key": "x", "val')
    again = RowCache(tmp_path, ctx)
    assert again.parts_read == 1 and again.get("a") == {"n": 1} and again.get("b") is None
    assert not killed.exists()
