"""Ingest: real formats, malformed lines quarantined with file/line/reason, counts add up."""

from __future__ import annotations

import bz2
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from politune.corpus.clean import clean_text, dedup_key
from politune.corpus.ingest import RejectFractionError, ingest
from politune.params import CorpusSpec, IngestParams

HEADER = "id\ttimestamp\ttime_scraped\tis_retruth\tis_reply\tauthor\tlike_count\tretruth_count\treply_count\ttext\texternal_id\turl\ttruth_retruthed"
GOOD = [
    "Cut taxes now and let working families keep what they earn this year.",
    "Secure the border first, then we can talk about anything else at all.",
    "Energy independence means drilling here instead of begging other nations.",
]


def tsv_row(i: int, text: str, retruth: str = "f") -> str:
    return f"{i}\t2022-08-01 10:00:00\t2022-09-01 10:00:00\t{retruth}\tf\t7\t1\t0\t0\t{text}\t9{i}\turl\t-1"


def write_politosphere(folder: Path, lines: list[bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "subreddits_metadata.json").write_text(
        '{"subreddit": "democrats", "party": "dem"}\n{"subreddit": "Conservative", "party": "rep"}\n'
    )
    with bz2.open(folder / "comments_2019-01.bz2", "wb") as f:
        f.write(b"\n".join(lines) + b"\n")


def comment(i: int, body: object, sub: str = "democrats") -> bytes:
    return json.dumps({"id": f"c{i}", "body": body, "subreddit": sub, "author": "abcde"}).encode()


def test_politosphere_malformed_lines_quarantined(tmp_path: Path) -> None:
    nfc = "Universal healthcare is a right, not a privilege, says every café owner I know."
    lines = [
        b"\xef\xbb\xbf"
        + comment(1, "Tax the billionaires and fund public schools properly, it is overdue."),  # BOM
        comment(2, "Unions built the middle class and they can rebuild it if we let them.") + b"\r",  # CRLF
        b'{"id": "c3", "body": "truncated',  # truncated JSON
        comment(4, "Raise the minimum wage to a living wage in every state now.") + b" trailing",  # garbage
        b'{"id": "c5", "body": "bad byte \xff here", "subreddit": "democrats"}',  # invalid UTF-8
        b'{"id": "c6", "body": "lone \\ud800 surrogate", "subreddit": "democrats"}',  # lone surrogate
        comment(7, 12345),  # non-string text
        b'{"id": "c8", "subreddit": "democrats"}',  # missing text
        comment(9, "nul \x00 inside the text of this otherwise fine comment"),  # NUL
        b"",  # blank line
        comment(10, nfc),
        comment(11, unicodedata.normalize("NFD", nfc)),  # NFD twin: must collapse
        comment(12, "Keep the government out of my wallet and my guns.", sub="Conservative"),  # other party
        comment(13, "[deleted]"),
    ]
    write_politosphere(tmp_path / "pol", lines)
    spec = {
        "pol": CorpusSpec(
            format="politosphere",
            path="pol",
            metadata="pol/subreddits_metadata.json",
            parties=["dem"],
            side="left",
        )
    }
    res = ingest(spec, IngestParams(min_chars=10, max_reject_fraction=0.9, min_words=0), root=str(tmp_path))
    c = res.counts["per_corpus"]["pol"]
    assert c["rows_in"] == len(lines)
    assert c["kept"] == 3  # c1 (BOM), c2 (CRLF), c10 (c11 is its NFD twin; c4 has trailing garbage)
    assert c["rows_in"] == c["kept"] + sum(v for k, v in c.items() if k.startswith("rejected."))
    by_line = {r["line"]: r["reason"] for rs in res.rejects.values() for r in rs}
    assert by_line[3] == "parse_error" and by_line[4] == "parse_error"
    assert by_line[5] == "bad_encoding" and by_line[6] == "bad_encoding"
    assert by_line[7] == "bad_type" and by_line[8] == "missing_text" and by_line[9] == "nul_byte"
    assert by_line[10] == "blank_line" and by_line[12] == "duplicate"
    assert by_line[13] == "other_party" and by_line[14] == "deleted"
    kept_texts = [p["text"] for p in res.posts]
    assert kept_texts[0].startswith("Tax the billionaires")  # BOM stripped
    assert not kept_texts[1].endswith("\r")
    for rs in res.rejects.values():
        for r in rs:
            assert r["source_file"].endswith("comments_2019-01.bz2") and r["line"] >= 1 and r["reason"]


def test_truthsocial_reader_and_reject_threshold(tmp_path: Path) -> None:
    rows = [HEADER] + [tsv_row(i, t) for i, t in enumerate(GOOD)] + [tsv_row(9, GOOD[0], retruth="t")]
    rows.append("broken\tline")
    path = tmp_path / "truths.tsv"
    path.write_text("\n".join(rows) + "\n")
    spec = {"ts": CorpusSpec(format="truthsocial", path="truths.tsv", side="right")}
    res = ingest(spec, IngestParams(min_chars=10, max_reject_fraction=0.5, min_words=0), root=str(tmp_path))
    c = res.counts["per_corpus"]["ts"]
    assert c["kept"] == 3 and c["rejected.retruth"] == 1 and c["rejected.parse_error"] == 1
    # a file in the wrong format: nearly every line malformed -> clear error naming file and parameter
    path.write_text(HEADER + "\n" + "\n".join(f"just some text {i}" for i in range(10)) + "\n")
    with pytest.raises(RejectFractionError) as e:
        ingest(spec, IngestParams(min_chars=10, max_reject_fraction=0.5, min_words=0), root=str(tmp_path))
    msg = str(e.value)
    assert "truths.tsv" in msg and "10 of 10 rows" in msg and "ingest.max_reject_fraction=0.5" in msg
    assert "lines [2, 3, 4, 5, 6]" in msg


def test_clean_text_hostile_unicode() -> None:
    s = "Tax\u200b the \u202erich\u202c now https://example.com/x @someone"
    assert clean_text(s) == "Tax the rich now <url> @user"
    assert dedup_key("Tax the RICH!!  🔥") == dedup_key("tax the rich")


def test_header_only_and_wrong_header(tmp_path: Path) -> None:
    path = tmp_path / "truths.tsv"
    path.write_text("foo\tbar\n")
    spec = {"ts": CorpusSpec(format="truthsocial", path="truths.tsv", side="right")}
    with pytest.raises(ValueError, match="header lacks column"):
        ingest(spec, IngestParams(min_words=0), root=str(tmp_path))


# --- scale path: chunked, vectorized ingestion behaves like the one-post-at-a-time definition -------------


def _reference_kept(texts: list[str], threshold: float) -> list[int]:
    """The definition, one post at a time: drop exact twins (normalized text), then any post whose word
    3-gram set has Jaccard >= threshold with a kept post."""
    from politune.corpus.clean import normalized

    norm = normalized(__import__("polars").Series(texts)).to_list()
    kept: list[int] = []
    sets: list[set] = []
    seen: set[str] = set()
    for i, t in enumerate(norm):
        if t in seen:
            continue
        seen.add(t)
        w = t.split(" ")
        sh = {tuple(w[j : j + 3]) for j in range(len(w) - 2)} if len(w) >= 3 else {tuple(w)}
        if any(len(sh & o) / len(sh | o) >= threshold for o in sets):
            continue
        kept.append(i)
        sets.append(sh)
    return kept


def _planted_corpus(n: int, seed: int = 3) -> list[str]:
    import random

    r = random.Random(seed)
    vocab = [f"w{k}" for k in range(600)]
    texts: list[str] = []
    for _ in range(n):
        if texts and r.random() < 0.3:  # a near or exact copy of an earlier post: 0-4 words changed
            w = r.choice(texts).split()
            for _ in range(r.choice([0, 1, 1, 2, 3])):
                w[r.randrange(len(w))] = r.choice(vocab)
            texts.append(" ".join(w) + r.choice(["", "!", " ..."]))
        else:
            texts.append(" ".join(r.choice(vocab) for _ in range(r.randint(12, 60))))
    return texts


@pytest.mark.parametrize("threshold", [0.8, 0.6])
def test_near_duplicates_match_the_definition_across_chunks(
    tmp_path: Path, threshold: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    from politune.corpus import readers

    texts = _planted_corpus(1200)
    (tmp_path / "p.jsonl").write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
    )
    spec = {"p": CorpusSpec(format="jsonl", path="p.jsonl", side="left", id_column="id")}
    params = IngestParams(min_chars=1, near_dup_threshold=threshold, min_words=0)
    want = _reference_kept(texts, threshold)
    assert len(want) < len(texts) - 150  # the planted copies really are there
    for chunk_rows in (50_000, 97):  # one chunk, and many chunks (near duplicates across chunk borders)
        monkeypatch.setattr(readers, "CHUNK_ROWS", chunk_rows)
        res = ingest(spec, params, root=str(tmp_path))
        got = [int(p["source_id"]) for p in res.posts]
        assert got == want, f"chunk_rows={chunk_rows}: {len(set(got) ^ set(want))} posts differ"
        c = res.counts["total"]
        assert c["rows_in"] == c["kept"] + c["rejected.duplicate"] + c["rejected.near_duplicate"]
        for r in res.rejects["near_duplicate"]:
            sim = float(r["detail"].split()[1])
            assert sim >= threshold


def test_spilled_dedup_state_gives_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With spill thresholds so small that nearly every band key run, shingle and id goes to disk after the
    first chunks, ingest keeps, quarantines and names exactly what the in-memory state does."""
    from politune.corpus import readers, spill

    texts = _planted_corpus(1200)
    (tmp_path / "p.jsonl").write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
    )
    spec = {"p": CorpusSpec(format="jsonl", path="p.jsonl", side="left", id_column="id")}
    params = IngestParams(min_chars=1, min_words=0)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 97)
    mem = ingest(spec, params, root=str(tmp_path))
    monkeypatch.setattr(spill, "SPILL_BYTES", 256)
    monkeypatch.setattr(spill, "SPILL_KEYS", 300)
    spilled_to: list[int] = []
    real_add = spill.KeyRuns.add

    def add(self: spill.KeyRuns, keys: object, owners: object) -> None:
        real_add(self, keys, owners)  # type: ignore[arg-type]
        spilled_to.append(len(self.disk))

    monkeypatch.setattr(spill.KeyRuns, "add", add)
    disk = ingest(spec, params, root=str(tmp_path), spill_dir=tmp_path / "spill")
    assert max(spilled_to) >= 3  # runs really went to disk
    assert list(disk.posts) == list(mem.posts)
    assert disk.rejects == mem.rejects and disk.counts == mem.counts
    assert len(mem.rejects["duplicate"]) > 20 and len(mem.rejects["near_duplicate"]) > 20
    assert not list((tmp_path / "spill").iterdir())  # its temporary folder is gone


def test_generic_tables_quarantine_bad_rows(tmp_path: Path) -> None:
    good = [f"Post number {i} says public transit deserves more funding everywhere." for i in range(6)]
    (tmp_path / "t.csv").write_bytes(
        b"\xef\xbb\xbfid,text\r\n"  # BOM and CRLF accepted
        + b"".join(f'{i},"{t}"\r\n'.encode() for i, t in enumerate(good[:3]))
        + b"7\r\n"  # too few fields
        + b'8,"bad byte \xff in text"\r\n'  # invalid UTF-8
        + b"\r\n"  # blank line
        + f'9,"{good[3]}"\r\n'.encode()
    )
    spec = {"c": CorpusSpec(format="csv", path="t.csv", side="left", id_column="id")}
    res = ingest(spec, IngestParams(min_chars=10, max_reject_fraction=0.9, min_words=0), root=str(tmp_path))
    c = res.counts["total"]
    assert c["kept"] == 4 and c["rejected.parse_error"] == 1 and c["rejected.bad_encoding"] == 1
    assert c["rejected.blank_line"] == 1 and c["rows_in"] == 7
    assert [p["source_id"] for p in res.posts] == ["0", "1", "2", "9"]
    assert {r["line"] for r in res.rejects["parse_error"]} == {5}

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": [1, 2, 3], "text": [good[4], None, good[5]]}), tmp_path / "t.parquet")
    spec = {"q": CorpusSpec(format="parquet", path="t.parquet", side="right", id_column="id")}
    res = ingest(spec, IngestParams(min_chars=10, max_reject_fraction=0.9, min_words=0), root=str(tmp_path))
    assert res.counts["total"]["kept"] == 2 and res.rejects["missing_text"][0]["line"] == 2
    pq.write_table(pa.table({"text": [1, 2]}), tmp_path / "ints.parquet")
    spec = {"q": CorpusSpec(format="parquet", path="ints.parquet", side="right")}
    with pytest.raises(RejectFractionError, match="ints.parquet: 2 of 2 rows"):
        ingest(spec, IngestParams(min_words=0), root=str(tmp_path))
    (tmp_path / "h.csv").write_text("id,body\n")
    with pytest.raises(ValueError, match="no `text` column"):
        ingest(
            {"h": CorpusSpec(format="csv", path="h.csv", side="left")},
            IngestParams(min_words=0),
            root=str(tmp_path),
        )


def test_compressed_lines_read_ahead_like_plain(tmp_path: Path) -> None:
    import io

    from politune.corpus.readers import BLOCK, _lines

    data = b"\xef\xbb\xbffirst\r\n" + b"x" * (BLOCK + 5) + b"\n\nlast without newline"
    plain = list(_lines(io.BytesIO(data)))
    assert (
        [n for n, _ in plain] == [1, 2, 3, 4]
        and plain[0][1] == b"first"
        and plain[3][1] == b"last without newline"
    )
    assert list(_lines(io.BytesIO(data), threaded=True)) == plain
    # a generator abandoned half way stops its read-ahead thread
    gen = _lines(io.BytesIO(data * 3), threaded=True)
    next(gen)
    gen.close()


def test_language_and_word_filters(tmp_path: Path) -> None:
    texts = [
        "The government should do more for the people who work in our factories.",
        "Le gouvernement doit faire plus pour les gens qui travaillent dans nos usines.",
        "Die Regierung muss mehr für die Menschen tun, die in unseren Fabriken arbeiten.",
        "Short English post here.",
    ]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    spec = {"p": CorpusSpec(format="jsonl", path="p.jsonl", side="left")}
    res = ingest(spec, IngestParams(min_chars=5, language="en", min_words=5), root=str(tmp_path))
    assert [p["text"] for p in res.posts] == [texts[0]]
    assert res.counts["total"]["rejected.not_english"] == 2
    assert res.counts["total"]["rejected.too_few_words"] == 1


def test_near_duplicate_chain_same_in_any_chunking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """40 copies of a 200-word text, each with its last word changed: only the first is kept, whether they
    arrive in one chunk or many (each copy is compared with the earliest posts sharing its band keys)."""
    from politune.corpus import readers

    words = [f"w{i}" for i in range(200)]
    texts = [" ".join(words[:-1] + [f"end{k}"]) for k in range(40)]
    (tmp_path / "p.jsonl").write_text(
        "".join(json.dumps({"id": f"id{i}", "text": t}) + "\n" for i, t in enumerate(texts))
    )
    spec = {"p": CorpusSpec(format="jsonl", path="p.jsonl", side="left", id_column="id")}
    for chunk_rows in (50_000, 5):
        monkeypatch.setattr(readers, "CHUNK_ROWS", chunk_rows)
        res = ingest(spec, IngestParams(min_chars=1, min_words=0), root=str(tmp_path))
        assert [p["source_id"] for p in res.posts] == ["id0"], chunk_rows
        assert res.counts["total"]["rejected.near_duplicate"] == 39


def test_bad_ids_surrogates_and_corrupt_compressed_files(tmp_path: Path) -> None:
    lines = [
        b'{"id": null, "text": "A post without an id about public transit funding."}',
        b'{"id": "", "text": "Another post without an id, this one about rent control."}',
        b'{"id": "\\ud800", "text": "A post whose id holds a lone surrogate escape."}',
    ]
    (tmp_path / "p.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    spec = {"p": CorpusSpec(format="jsonl", path="p.jsonl", side="left", id_column="id")}
    res = ingest(spec, IngestParams(min_chars=1, max_reject_fraction=0.9, min_words=0), root=str(tmp_path))
    assert [p["source_id"] for p in res.posts] == ["1", "2"]  # the line number stands in for a missing id
    assert len({p["post_id"] for p in res.posts}) == 2
    assert res.rejects["bad_encoding"][0]["line"] == 3
    good = bz2.compress(b"\n".join(lines[:2]) + b"\n")
    (tmp_path / "cut.jsonl.bz2").write_bytes(good[: len(good) // 2])
    spec = {"p": CorpusSpec(format="jsonl", path="cut.jsonl.bz2", side="left")}
    with pytest.raises(ValueError, match=r"cut.jsonl.bz2: cannot decompress"):
        ingest(spec, IngestParams(min_chars=1, min_words=0), root=str(tmp_path))


def test_rejects_alone_fill_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from politune.corpus import readers

    monkeypatch.setattr(readers, "CHUNK_ROWS", 10)
    (tmp_path / "p.jsonl").write_text("not json\n" * 35)
    chunks = list(readers.read_table("p", tmp_path / "p.jsonl", "jsonl", "text", None))
    assert [c.rows_in for c in chunks] == [10, 10, 10, 5] and chunks[-1].done


def test_paged_search_and_filter_agree_with_numpy() -> None:
    """The disk runs' binary search equals np.searchsorted on both sides (repeats, misses, ends, empty), and
    the Bloom filter has no false negatives."""
    from politune.corpus.spill import Bloom, searchsorted_paged

    rng = np.random.default_rng(0)
    keys = np.sort(rng.integers(0, 50, 1000).astype(np.uint64))
    needles = np.sort(rng.integers(0, 53, 300).astype(np.uint64))
    for side in ("left", "right"):
        assert (searchsorted_paged(keys, needles, side) == np.searchsorted(keys, needles, side)).all()
    assert (searchsorted_paged(keys[:0], needles) == 0).all()
    bloom = Bloom(1 << 20)
    big = rng.integers(0, 2**63, 20_000, dtype=np.uint64)
    bloom.add(big)
    assert bloom.may_contain(big).all()
    assert bloom.may_contain(rng.integers(0, 2**63, 20_000, dtype=np.uint64)).mean() < 0.01


def test_bulk_jaccard_and_ranges_match_their_definitions() -> None:
    """jaccard_pairs equals |A & B| / |A | B| over Python sets for every pair (repeats count once, two empty
    sets give 1.0), and `ranges` equals concatenated aranges."""
    from politune.corpus.clean import jaccard_pairs
    from politune.corpus.spill import ranges

    rng = np.random.default_rng(1)
    sets_a = [rng.integers(0, 30, rng.integers(0, 12)).astype(np.uint32) for _ in range(200)]
    sets_b = [rng.integers(0, 30, rng.integers(0, 12)).astype(np.uint32) for _ in range(200)]
    sets_a[0] = sets_b[0] = np.empty(0, dtype=np.uint32)
    got = jaccard_pairs(
        np.concatenate(sets_a),
        np.repeat(np.arange(200), [len(a) for a in sets_a]),
        np.concatenate(sets_b),
        np.repeat(np.arange(200), [len(b) for b in sets_b]),
        200,
    )
    for a, b, g in zip(sets_a, sets_b, got, strict=True):
        sa, sb = set(a.tolist()), set(b.tolist())
        assert g == (len(sa & sb) / len(sa | sb) if sa | sb else 1.0)
    starts, lens = np.array([5, 0, 9, 2]), np.array([3, 0, 1, 2])
    assert ranges(starts, lens).tolist() == [5, 6, 7, 9, 2, 3]


@pytest.mark.parametrize("spill", [False, True])
def test_exact_copy_of_a_near_duplicate_names_both_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spill: bool
) -> None:
    """A post repeating (exactly) a post quarantined as a near duplicate names that post and the kept post it
    resembles, from a later chunk, with the state in memory or spilled to disk."""
    from politune.corpus import readers
    from politune.corpus import spill as spill_mod
    from politune.corpus.ingest import post_id

    words = "the council voted to fund a new light rail line across the river next spring after a long debate"
    near = words.replace("debate", "hearing")  # the last word: one shingle of 18 differs
    texts = [words, near, near.upper() + "!", "an unrelated post about wheat prices in the northern plains"]
    (tmp_path / "p.jsonl").write_text(
        "".join(json.dumps({"id": f"r{i}", "text": t}) + "\n" for i, t in enumerate(texts))
    )
    monkeypatch.setattr(readers, "CHUNK_ROWS", 1)
    if spill:
        monkeypatch.setattr(spill_mod, "SPILL_BYTES", 8)
        monkeypatch.setattr(spill_mod, "SPILL_KEYS", 4)
    spec = {"p": CorpusSpec(format="jsonl", path="p.jsonl", side="left", id_column="id")}
    res = ingest(
        spec,
        IngestParams(min_chars=1, min_words=0),
        root=str(tmp_path),
        spill_dir=tmp_path / "s" if spill else None,
    )
    assert [p["source_id"] for p in res.posts] == ["r0", "r3"]
    assert res.rejects["near_duplicate"][0]["line"] == 2
    (dup,) = res.rejects["duplicate"]
    assert dup["detail"] == (
        f"same text as post {post_id('p', 'r1')} (quarantined as a near duplicate of {post_id('p', 'r0')})"
    )


def test_read_ahead_stops_and_closes_its_source() -> None:
    """ReadAhead gives the items in order; a producer's error reaches the consumer once; leaving the `with`
    block early stops the thread and closes the source (its files), with no reference left to it."""
    import threading

    from politune.corpus.readers import ReadAhead

    closed: list[str] = []

    def source(n: int, fail_at: int | None = None) -> Iterator[int]:
        try:
            for i in range(n):
                if i == fail_at:
                    raise ValueError(f"bad item {i}")
                yield i
        finally:
            closed.append("closed")

    with ReadAhead(source(50)) as ahead:
        assert list(ahead) == list(range(50))
        assert next(ahead, None) is None  # stays exhausted
    assert closed == ["closed"]
    with ReadAhead(source(50, fail_at=3)) as ahead:
        assert [next(ahead) for _ in range(3)] == [0, 1, 2]
        with pytest.raises(ValueError, match="bad item 3"):
            next(ahead)
        assert next(ahead, None) is None
    with pytest.raises(RuntimeError, match="consumer failed"), ReadAhead(source(10**9), depth=2) as ahead:
        next(ahead)
        raise RuntimeError("consumer failed")
    assert closed == ["closed"] * 3  # the endless source was closed by the producer when it stopped
    assert not any(t.name == "politune-read-ahead" for t in threading.enumerate())


def test_stopping_early_in_a_compressed_file_stops_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing a reader mid-file (an error downstream, Ctrl-C) stops the decompressing thread before the file
    is closed, so no thread reads a closed stream and none is left behind."""
    import threading

    from politune.corpus import readers

    monkeypatch.setattr(readers, "BLOCK", 64)  # many blocks: the thread is mid-file when the reader stops
    monkeypatch.setattr(readers, "CHUNK_ROWS", 10)
    lines = "".join(
        json.dumps({"id": i, "text": f"post number {i} about the budget"}) + "\n" for i in range(2000)
    )
    (tmp_path / "p.jsonl.bz2").write_bytes(bz2.compress(lines.encode()))
    threads_at_close: list[bool] = []

    def reading() -> bool:
        return any(t.name == "politune-read-ahead" and t.is_alive() for t in threading.enumerate())

    class Watched(bz2.BZ2File):
        def close(self) -> None:
            threads_at_close.append(reading())
            super().close()

    monkeypatch.setattr(readers, "_open_compressed", lambda path: Watched(path, "rb"))
    chunks = readers.read_table("p", tmp_path / "p.jsonl.bz2", "jsonl", "text", "id")
    assert len(next(chunks).lines) == 10
    assert reading()
    chunks.close()  # type: ignore[attr-defined]  # a generator
    assert threads_at_close == [False] and not reading()
