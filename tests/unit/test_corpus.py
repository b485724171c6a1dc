"""Ingest: real formats, malformed lines quarantined with file/line/reason, counts add up."""

from __future__ import annotations

import bz2
import json
import unicodedata
from pathlib import Path

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
        b"\xef\xbb\xbf" + comment(1, "Tax the billionaires and fund public schools properly, it is overdue."),  # BOM
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
    spec = {"pol": CorpusSpec(format="politosphere", path="pol", metadata="pol/subreddits_metadata.json",
                              parties=["dem"], side="left")}
    res = ingest(spec, IngestParams(min_chars=10, max_reject_fraction=0.9), root=str(tmp_path))
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
    res = ingest(spec, IngestParams(min_chars=10, max_reject_fraction=0.5), root=str(tmp_path))
    c = res.counts["per_corpus"]["ts"]
    assert c["kept"] == 3 and c["rejected.retruth"] == 1 and c["rejected.parse_error"] == 1
    # a file in the wrong format: nearly every line malformed -> clear error naming file and parameter
    path.write_text(HEADER + "\n" + "\n".join(f"just some text {i}" for i in range(10)) + "\n")
    with pytest.raises(RejectFractionError) as e:
        ingest(spec, IngestParams(min_chars=10, max_reject_fraction=0.5), root=str(tmp_path))
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
        ingest(spec, IngestParams(), root=str(tmp_path))
