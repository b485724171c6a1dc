"""Bad and hostile input: empty corpora, a 50 MB post, hostile Unicode, everything filtered out. Each stops
with a message naming the file or threshold, or is cleaned and counted; figures go to the fault table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from stages import ingest as ingest_stage

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.faults
GOOD = [
    f"Post {i}: the city should fund public transit and fix the schools before tax cuts." for i in range(8)
]


def set_corpora(repo: Path, **corpora: dict) -> None:
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["corpora"] = corpora
    (repo / "params.yaml").write_text(yaml.safe_dump(raw))


def jsonl(path: Path, texts: list[str]) -> None:
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))


@pytest.mark.parametrize("kind", ["empty_jsonl", "empty_csv", "header_only_csv"])
def test_empty_corpus_stops_naming_the_file(
    repo_copy: Path, monkeypatch: pytest.MonkeyPatch, kind: str, fault_record
) -> None:  # noqa: ANN001
    monkeypatch.chdir(repo_copy)
    ext = "jsonl" if kind == "empty_jsonl" else "csv"
    Path(f"data/raw/empty.{ext}").write_text("id,text\n" if kind == "header_only_csv" else "")
    jsonl(Path("data/raw/right.jsonl"), GOOD)
    set_corpora(
        repo_copy,
        empty={"format": ext, "path": f"data/raw/empty.{ext}", "side": "left"},
        right={"format": "jsonl", "path": "data/raw/right.jsonl", "side": "right"},
    )
    res = CliRunner().invoke(ingest_stage.main, [])
    assert res.exit_code == 1, res.output
    line = res.output.strip().splitlines()[-1]
    assert line.startswith("error in stage ingest:") and f"empty.{ext}" in line, res.output
    assert not Path("data/interim/posts.jsonl").exists() and not Path("metrics/ingest.json").exists()
    fault_record(
        f"Empty corpus ({kind.replace('_', ' ')})",
        f"corpus file with {'a header line only' if 'header' in kind else 'no bytes'}",
        "exit 1 before any output is written; the message names the file and the params to check",
        message=line.removeprefix("error in stage ingest: "),
    )


def test_everything_filtered_out_names_the_threshold(
    repo_copy: Path, monkeypatch: pytest.MonkeyPatch, fault_record
) -> None:  # noqa: ANN001
    monkeypatch.chdir(repo_copy)
    raw = yaml.safe_load(Path("params.yaml").read_text())
    raw["ingest"]["min_chars"] = 5000
    raw["ingest"]["max_chars"] = 6000
    Path("params.yaml").write_text(yaml.safe_dump(raw))
    res = CliRunner().invoke(ingest_stage.main, [])
    assert res.exit_code == 1
    line = res.output.strip().splitlines()[-1]
    assert "kept no posts" in line and "rejected.too_short" in line and "ingest.min_chars" in line, line
    assert not Path("data/interim/posts.jsonl").exists()
    fault_record(
        "Every post filtered out",
        "ingest.min_chars=5000 on the bundled sample",
        "exit 1 naming the corpus, its counts per reason and the threshold to lower; no output written",
        message=line.removeprefix("error in stage ingest: ")[:160] + "...",
    )


MEASURE = r"""
import json, re, sys
from politune.corpus.ingest import FileSink, ingest
from politune.params import CorpusSpec, IngestParams
sink = FileSink(sys.argv[2], sys.argv[3])
res = ingest({"c": CorpusSpec(format="jsonl", path=sys.argv[1], side="left", id_column="id")},
             IngestParams(min_chars=10, min_words=0), sink=sink)
sink.close()
# VmHWM is this process's own peak (ru_maxrss would carry the parent's peak across exec)
hwm = int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1))
print(json.dumps({"counts": res.counts["total"], "maxrss_kb": hwm}))
"""


def _measure(tmp_path: Path, corpus: Path) -> dict:
    q = tmp_path / f"q-{corpus.stem}"
    q.mkdir()
    p = subprocess.run(
        [sys.executable, "-c", MEASURE, corpus.name, f"{corpus.stem}.out", q.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_50mb_post_truncated_with_bounded_memory(tmp_path: Path, fault_record) -> None:  # noqa: ANN001
    words = [
        "tax",
        "border",
        "union",
        "wage",
        "health",
        "market",
        "freedom",
        "vote",
        "court",
        "police",
        "school",
        "climate",
    ]
    size = 50 * 2**20
    big = (" ".join(words) + " ") * (size // (len(" ".join(words)) + 1) + 1)
    base = tmp_path / "base.jsonl"
    jsonl(base, GOOD)
    with_big = tmp_path / "big.jsonl"
    with with_big.open("w") as f:
        for i, t in enumerate(GOOD[:4] + [big[:size]] + GOOD[4:]):
            f.write(json.dumps({"id": i, "text": t}) + "\n")
    del big
    m0, m1 = _measure(tmp_path, base), _measure(tmp_path, with_big)
    assert m1["counts"]["truncated"] == 1 and m1["counts"]["kept"] == len(GOOD) + 1
    posts = [json.loads(ln) for ln in (tmp_path / "big.out").read_text().splitlines()]
    assert max(len(p["text"]) for p in posts) <= 1500 and sum(p["truncated"] for p in posts) == 1
    extra_mb = (m1["maxrss_kb"] - m0["maxrss_kb"]) / 1024
    # the post is read once as bytes and once as text, cleaned, then cut: a small multiple of its size
    assert extra_mb < 8 * size / 2**20, extra_mb
    fault_record(
        "A 50 MB single post",
        "one 50 MiB post among 8 ordinary ones (JSONL)",
        "read, cleaned, truncated to ingest.max_chars=1500 and counted as truncated; every post kept",
        post_mib=50,
        peak_rss_mib=f"{m1['maxrss_kb'] / 1024:.0f} (without the post: {m0['maxrss_kb'] / 1024:.0f})",
        extra_memory_per_post_byte=f"{extra_mb / 50:.1f}x",
    )


def test_hostile_unicode_cleaned_and_twins_deduplicated(tmp_path: Path, fault_record) -> None:  # noqa: ANN001
    from politune.corpus.ingest import ingest
    from politune.params import CorpusSpec, IngestParams

    nfc = "The caf\u00e9 workers deserve a union and a real raise this year, not more excuses."
    hostile = [
        nfc,
        unicodedata.normalize("NFD", nfc),  # canonically equal twin: a duplicate
        "Tax\u200b the\u2066 rich\u2069 and \u202efund\u202c the schools\ufeff; stop\x1b the\x7f cuts.",
        "Tax the rich and fund the schools; stop the cuts.",  # the same post once the hostile characters go
        "Zero\u200d\u200d\u200d width\u2060 joiners\u200c hide in this post about the minimum wage debate.",
        "A NUL\u0000 byte inside a post is quarantined: downstream tools cut strings at it.",
    ]
    (tmp_path / "h.jsonl").write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(hostile))
    )
    res = ingest(
        {"h": CorpusSpec(format="jsonl", path="h.jsonl", side="left", id_column="id")},
        IngestParams(min_chars=10, min_words=0),
        root=str(tmp_path),
    )
    kept = {p["source_id"]: p["text"] for p in res.posts}
    assert sorted(kept) == ["0", "2", "4"], kept
    assert res.counts["total"]["rejected.duplicate"] == 2 and res.counts["total"]["rejected.nul_byte"] == 1
    bad = set("\u200b\u200c\u200d\u2060\u2066\u2069\u202e\u202c\ufeff\x1b\x7f")
    assert not any(set(t) & bad for t in kept.values())
    assert kept["2"] == hostile[3]
    assert all(unicodedata.is_normalized("NFC", t) for t in kept.values())
    from politune.corpus.clean import clean_text

    # whitespace of every kind separates words; tag characters (invisible ASCII look-alikes), soft hyphens,
    # the Arabic letter mark and C1 controls go; combining accents stay
    assert clean_text("tax\tthe\nrich\x85now\x1cand\u2028here") == "tax the rich now and here"
    assert clean_text("vote\U000e0020\U000e0069\U000e0067\u00ad\u061c\x9bno") == "voteno"
    assert clean_text("cafe\u0301") == "caf\u00e9"
    fault_record(
        "Hostile Unicode",
        "bidi overrides, zero-width joiners, BOM, ESC/DEL, a NUL, an NFC/NFD twin",
        "invisible and control characters removed, text NFC; the NFD twin and the post hiding behind "
        "invisible characters quarantined as duplicates; the NUL post quarantined as nul_byte",
        posts_in=6,
        kept=3,
        duplicates_quarantined=2,
        nul_quarantined=1,
    )
