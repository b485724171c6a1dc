"""Ingest: read every configured corpus, clean, deduplicate, and account for every row.

Returns kept posts (one dict each) plus rejects grouped by reason; the counts add up:
rows_in = kept + sum(rejected by reason), per corpus and in total.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from politune.corpus.clean import NearDupIndex, clean_text, dedup_key, is_url_only
from politune.corpus.readers import Item, Reject, Row, read_politosphere, read_table, read_truthsocial
from politune.params import CorpusSpec, IngestParams

log = logging.getLogger(__name__)


class RejectFractionError(RuntimeError):
    pass


@dataclass
class IngestResult:
    posts: list[dict[str, Any]] = field(default_factory=list)
    rejects: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, Any] = field(default_factory=dict)


def iter_corpus(name: str, spec: CorpusSpec, p: IngestParams, root: str = ".") -> Iterator[Item]:
    path = f"{root}/{spec.path}"
    if spec.format == "truthsocial":
        return read_truthsocial(name, path, p.drop_retruths, p.drop_replies)
    if spec.format == "politosphere":
        return read_politosphere(name, path, f"{root}/{spec.metadata}", spec.parties or [])
    return read_table(name, path, spec.format, spec.text_column, spec.id_column)


def post_id(corpus: str, rid: str) -> str:
    return hashlib.sha1(f"{corpus}\x1f{rid}".encode()).hexdigest()[:16]


def ingest(corpora: dict[str, CorpusSpec], p: IngestParams, root: str = ".") -> IngestResult:
    res = IngestResult()
    seen_exact: dict[str, str] = {}
    near = NearDupIndex(p.near_dup_threshold)
    near_ids: list[str] = []
    per_corpus: dict[str, Counter] = {}
    per_file: dict[str, Counter] = defaultdict(Counter)
    first_bad_lines: dict[str, list[int]] = defaultdict(list)

    def reject(r: Reject) -> None:
        per_corpus[r.corpus][f"rejected.{r.reason}"] += 1
        per_file[r.source_file]["malformed" if r.malformed else "filtered"] += 1
        if r.malformed and len(first_bad_lines[r.source_file]) < 5:
            first_bad_lines[r.source_file].append(r.line)
        res.rejects[r.reason].append(
            {"corpus": r.corpus, "source_file": r.source_file, "line": r.line, "reason": r.reason,
             "detail": r.detail, "raw": r.raw}
        )

    for name, spec in corpora.items():
        per_corpus[name] = Counter()
        log.info("ingest: reading corpus %s (%s) from %s", name, spec.format, spec.path)
        for item in tqdm(iter_corpus(name, spec, p, root), desc=f"ingest {name}", unit=" rows", mininterval=2):
            per_corpus[name]["rows_in"] += 1
            per_file[item.source_file]["rows"] += 1
            if isinstance(item, Reject):
                reject(item)
                continue
            row: Row = item
            cleaned = clean_text(row.text)

            def rej(reason: str, detail: str, row: Row = row, malformed: bool = False) -> None:
                reject(Reject(row.corpus, row.source_file, row.line, reason, detail, row.text[:2000], malformed))

            if not cleaned:
                rej("deleted", "empty or deleted body")
                continue
            if is_url_only(cleaned):
                rej("url_only", "only links, no text")
                continue
            if len(cleaned) < p.min_chars:
                rej("too_short", f"{len(cleaned)} chars < ingest.min_chars={p.min_chars}")
                continue
            truncated = len(cleaned) > p.max_chars
            if truncated:
                cleaned = cleaned[: p.max_chars].rsplit(" ", 1)[0]
                per_corpus[name]["truncated"] += 1
            key = dedup_key(cleaned)
            if key in seen_exact:
                rej("duplicate", f"same text as post {seen_exact[key]}")
                continue
            pid = post_id(name, row.id)
            match, sim = near.add_or_match(cleaned)
            if match is not None:
                rej("near_duplicate", f"Jaccard {sim:.2f} with post {near_ids[match]}")
                continue
            near_ids.append(pid)
            seen_exact[key] = pid
            per_corpus[name]["kept"] += 1
            res.posts.append(
                {"post_id": pid, "corpus": name, "side": spec.side, "source_file": row.source_file,
                 "line": row.line, "source_id": row.id, "text": cleaned, "truncated": truncated}
            )

    for f, c in per_file.items():
        frac = c["malformed"] / max(c["rows"], 1)
        if frac > p.max_reject_fraction:
            raise RejectFractionError(
                f"{f}: {c['malformed']} of {c['rows']} rows ({frac:.0%}) could not be read (first at lines "
                f"{first_bad_lines[f]}); above ingest.max_reject_fraction={p.max_reject_fraction}. Check the "
                f"file's format and the corpus `format` in params, or raise ingest.max_reject_fraction."
            )
    total = Counter()
    for c in per_corpus.values():
        total.update(c)
    res.counts = {"total": dict(total), "per_corpus": {k: dict(v) for k, v in per_corpus.items()},
                  "per_side": dict(Counter(p_["side"] for p_ in res.posts))}
    for name, c in per_corpus.items():
        rejected = sum(v for k, v in c.items() if k.startswith("rejected."))
        assert c["rows_in"] == c["kept"] + rejected, f"ingest accounting broken for {name}: {dict(c)}"
    return res
