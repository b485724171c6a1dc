"""Text cleaning and deduplication, vectorized over batches of posts (polars + numpy).

clean_series: Unicode NFC; control and format characters (zero-width, bidi, tags) removed; URLs -> "<url>", @mentions ->
"@user"; whitespace collapsed. Exact duplicates share `dedup_keys` (NFKC, lower case, letters, digits and
spaces only). Near duplicates: MinHash over word 3-gram shingles with LSH banding (`NearDupIndex`); every
candidate pair is confirmed by its exact Jaccard similarity, so the threshold is exact and LSH only
decides which pairs get looked at: a pair at the threshold becomes a candidate with probability >= 99.9%
for thresholds >= 0.55 (99.5% at 0.5; lower below, where the 40-band cap binds), and a key shared by more
than 16 kept posts is compared with its 16 earliest.

Everything works on whole batches: one polars expression per step, numpy for the MinHash. A batch of
50,000 posts costs the same Python overhead as one post.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from politune.corpus.spill import AppendArray, KeyRuns, ranges

# every control (Cc) and format (Cf) character except whitespace: zero-width (U+200B-U+200D, U+2060, U+FEFF),
# bidi controls (U+200E/F, U+202A-U+202E, U+2066-U+2069, U+061C), soft hyphens, the invisible "tag" characters
# (U+E0000-U+E007F, a known prompt-injection channel), NUL, ESC, DEL, C1 controls
_INVISIBLE = r"[\p{Cc}\p{Cf}--[\t-\r\x1c-\x1f\x85]]"
_URL = r"(?i)(?:https?://|www\.)\S+"
# polars' regex engine has no look-behind: the character before the @ is captured and put back
_MENTION = r"(^|[^\w@])@\w{1,30}"
URL_TOKEN = "<url>"
_SEED = 0x5EED


def clean_series(texts: pl.Series | list[str]) -> pl.Series:
    # Python's unicodedata has a quick check that skips text already in NFC: ~20x faster than polars here
    items = texts.to_list() if isinstance(texts, pl.Series) else texts
    nfc = pl.Series("text", [unicodedata.normalize("NFC", t) for t in items], dtype=pl.String)
    return (
        nfc.str.replace_all(_INVISIBLE, "")
        .str.replace_all(_URL, URL_TOKEN)
        .str.replace_all(_MENTION, "${1}@user")
        # matches only what changes (3x faster than \s+); U+001C-U+001F separate words, as Python's split() says
        .str.replace_all(r"[\s\x1c-\x1f]{2,}|[^\S ]|[\x1c-\x1f]", " ")
        .str.strip_chars()
    )


def clean_text(text: str) -> str:
    """One text through `clean_series` (for tests and one-off use)."""
    return clean_series([text])[0]


def url_only(cleaned: pl.Series) -> pl.Series:
    """True where the post is only links (and punctuation)."""
    return cleaned.str.contains(URL_TOKEN, literal=True) & ~cleaned.str.replace_all(
        URL_TOKEN, "", literal=True
    ).str.contains(r"\w")


def truncate(cleaned: pl.Series, max_chars: int) -> pl.Series:
    """Cut at max_chars, then back to the last whole word (texts are single-spaced after cleaning)."""
    long = cleaned.str.len_chars() > max_chars
    # one character more: a cut that lands on a space keeps the word before it
    cut = cleaned.str.slice(0, max_chars + 1).str.replace(r" [^ ]*$", "").str.slice(0, max_chars)
    return pl.select(pl.when(long).then(cut).otherwise(cleaned)).to_series().alias(cleaned.name)


def normalized(cleaned: pl.Series) -> pl.Series:
    """The text that decides duplicates: NFKC, lower case, letters, digits and single spaces only.

    Its space-separated tokens are the post's words (for min_words and the near-duplicate shingles).
    """
    nfkc = pl.Series([unicodedata.normalize("NFKC", t) for t in cleaned.to_list()], dtype=pl.String)
    return (
        nfkc.str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}\s]", "")
        .str.replace_all(r"\s{2,}|[^\S ]", " ")
        .str.strip_chars()
    )


def dedup_keys(norm: pl.Series) -> pl.Series:
    """64-bit key for exact duplicates (of `normalized` texts): case, punctuation, emoji and spacing do not count."""
    return norm.hash(seed=_SEED)


def dedup_key(cleaned: str) -> int:
    return dedup_keys(normalized(pl.Series([cleaned], dtype=pl.String)))[0]


def word_counts(norm: pl.Series) -> pl.Series:
    """Words of `normalized` texts."""
    return pl.select(
        pl.when(norm == "").then(0).otherwise(norm.str.count_matches(" ", literal=True) + 1)
    ).to_series()


# --- near duplicates ------------------------------------------------------------------------------------

MAX_PER_KEY = 16  # candidates taken from one band key
_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)


def shingles(norm: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Word 3-gram shingle hashes of every `normalized` text, flat: (uint32 hashes, offsets of length n + 1).

    A text with fewer than 3 words has one shingle (all its words); a text with no words has none.
    """
    words = pl.select(pl.when(norm == "").then(None).otherwise(norm.str.split(" "))).to_series()
    lens = words.list.len().fill_null(0).to_numpy().astype(np.int64)
    wh = words.explode().drop_nulls().hash(seed=_SEED).to_numpy()  # uint64, one per word
    starts = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=starts[1:])
    n_sh = np.where(lens >= 3, lens - 2, np.minimum(lens, 1))
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(n_sh, out=offsets[1:])
    # 3-grams: positions i whose i+2 lies in the same text
    owner = np.repeat(np.arange(len(lens)), lens)  # text of each word
    p = np.flatnonzero(owner[:-2] == owner[2:]) if len(wh) > 2 else np.empty(0, np.int64)  # 3-gram starts
    tri = (wh[p] * _M1) ^ (wh[p + 1] * _M2) ^ (wh[p + 2] * _M3)
    out = np.empty(offsets[-1], dtype=np.uint64)
    long = lens >= 3
    # the 3-grams come out grouped by text, in order: they fill the slots of the texts with >= 3 words
    slot = np.repeat(long, n_sh)
    out[slot] = tri
    short = np.flatnonzero((lens > 0) & ~long)
    if len(short):  # 1-2 word texts: one shingle of all their words
        first = wh[starts[short]]
        second = np.where(lens[short] == 2, wh[np.minimum(starts[short] + 1, len(wh) - 1)], np.uint64(0))
        out[offsets[short]] = (first * _M1) ^ (second * _M2)
    return (out ^ (out >> np.uint64(32))).astype(np.uint32), offsets


def lsh_shape(threshold: float, recall: float = 0.999, rows: int = 3) -> tuple[int, int]:
    """(bands, rows) so that a pair at the threshold becomes a candidate with probability >= recall."""
    p = threshold**rows
    bands = math.ceil(math.log(1 - recall) / math.log(1 - p)) if p < 1 else 1
    return max(4, min(bands, 40)), rows


def jaccard_pairs(
    a: np.ndarray, a_pair: np.ndarray, b: np.ndarray, b_pair: np.ndarray, n_pairs: int
) -> np.ndarray:
    """Jaccard similarity of n_pairs pairs of uint32 shingle sets at once: pair p's first set is a[a_pair == p],
    its second b[b_pair == p] (repeats count once; two empty sets: 1.0). One sort instead of a numpy call
    per pair: a batch's few thousand candidate pairs cost milliseconds."""
    ka = np.unique((a_pair.astype(np.uint64) << np.uint64(32)) | a.astype(np.uint64))
    kb = np.unique((b_pair.astype(np.uint64) << np.uint64(32)) | b.astype(np.uint64))
    pos = np.minimum(np.searchsorted(ka, kb), len(ka) - 1) if len(ka) else np.zeros(0, dtype=np.int64)
    both = kb[ka[pos] == kb] if len(ka) else kb[:0]  # 2x faster than np.intersect1d (no second sort)
    inter = np.bincount((both >> np.uint64(32)).astype(np.int64), minlength=n_pairs)
    union = (
        np.bincount((ka >> np.uint64(32)).astype(np.int64), minlength=n_pairs)
        + np.bincount((kb >> np.uint64(32)).astype(np.int64), minlength=n_pairs)
        - inter
    )
    return np.divide(inter, union, out=np.ones(n_pairs), where=union > 0)


@dataclass
class Sketch:
    """Shingles (flat, with offsets) and (n, bands) band keys of the `rows` of a batch, in row order."""

    rows: np.ndarray
    sh: np.ndarray
    off: np.ndarray
    keys: np.ndarray

    def of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(shingles, offsets, band keys) of some of the sketched rows (sorted)."""
        pos = np.minimum(np.searchsorted(self.rows, rows), max(len(self.rows) - 1, 0))
        if not np.array_equal(self.rows[pos] if len(self.rows) else self.rows, rows):
            raise ValueError("Sketch.of: rows that were not sketched")
        if len(rows) == len(self.rows):
            return self.sh, self.off, self.keys
        lens = (self.off[1:] - self.off[:-1])[pos]
        return self.sh[ranges(self.off[pos], lens)], np.r_[0, np.cumsum(lens)], self.keys[pos]


class NearDupIndex:
    """MinHash LSH over batches. The index holds the band keys and shingles of kept posts only.

    Hash family: h_k(x) = mix((x ^ b_k) * a_k) over uint32 (a_k odd, so each h_k permutes the shingle
    hashes; the shingle hashes are already uniform). Band keys live in sorted runs (politune.corpus.spill.KeyRuns),
    so lookups are binary searches; about 16 bytes per band per kept post plus its shingles, on disk once they
    outgrow the spill sizes when a spill folder is given.
    """

    def __init__(self, threshold: float, seed: int = 1, spill: Path | None = None):
        """`spill`: a folder where the band keys and shingles of kept posts go once they pass a few hundred MB
        (politune.corpus.spill); None keeps them in memory."""
        self.threshold = threshold
        self.bands, self.rows = lsh_shape(threshold)
        k = self.bands * self.rows
        rng = np.random.default_rng(seed)
        self._a = (rng.integers(0, 2**31, k, dtype=np.uint32) << np.uint32(1)) | np.uint32(1)
        self._b = rng.integers(0, 2**32, k, dtype=np.uint32)
        self._band_salt = rng.integers(0, 2**63, self.bands, dtype=np.uint64)
        self._runs = KeyRuns(spill, MAX_PER_KEY)  # band keys of kept posts -> their ordinals
        self._sh = AppendArray(np.uint32, spill)  # shingles of the kept posts, flat, in ordinal order
        self._sh_off = AppendArray(np.int64, spill)  # kept ordinal -> its first shingle; one more at the end
        self._sh_off.extend(np.zeros(1, dtype=np.int64))
        self.size = 0

    def _band_keys(self, sh: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(n, bands) uint64 band keys; texts without shingles get key 0 (never matched)."""
        n = len(offsets) - 1
        nonempty = offsets[1:] > offsets[:-1]
        idx = offsets[:-1][nonempty]
        keys = np.zeros((n, self.bands), dtype=np.uint64)
        if not len(idx):
            return keys
        sig = np.empty((self.bands * self.rows, len(idx)), dtype=np.uint32)  # one contiguous row per hash
        h, tmp = np.empty_like(sh), np.empty_like(sh)  # reused: no new arrays per hash function
        for k in range(self.bands * self.rows):
            np.bitwise_xor(sh, self._b[k], out=h)
            np.multiply(h, self._a[k], out=h)
            np.right_shift(h, np.uint32(16), out=tmp)
            np.bitwise_xor(h, tmp, out=h)
            sig[k] = np.minimum.reduceat(h, idx)
        s64 = sig.astype(np.uint64)
        for band in range(self.bands):
            key = np.full(len(idx), self._band_salt[band], dtype=np.uint64)
            for r in range(band * self.rows, (band + 1) * self.rows):
                key = (key ^ s64[r]) * _M1
            keys[nonempty, band] = key | np.uint64(1)
        return keys

    def release(self) -> None:
        """Drop the spilled state's pages from this process's resident set (see politune.corpus.spill)."""
        self._runs.release()
        self._sh.release()
        self._sh_off.release()

    def _pair_sims(self, sh: np.ndarray, off: np.ndarray, rows: np.ndarray, cands: np.ndarray) -> np.ndarray:
        """Jaccard of each (batch row, candidate) pair; a candidate is a kept ordinal (>= 0) or ~ an earlier
        batch row. Shingles of kept posts are read from the index in one gather."""
        lens = off[1:] - off[:-1]
        pair = np.arange(len(rows))
        a_idx = ranges(off[rows], lens[rows])
        a_pair = np.repeat(pair, lens[rows])
        local, stored = cands < 0, cands >= 0
        b_local = ranges(off[~cands[local]], lens[~cands[local]])
        b_local_pair = np.repeat(pair[local], lens[~cands[local]])
        ords = cands[stored]
        starts, ends = self._sh_off.take(ords), self._sh_off.take(ords + 1)
        b_stored = self._sh.take(ranges(starts, ends - starts))
        b_stored_pair = np.repeat(pair[stored], ends - starts)
        return jaccard_pairs(
            sh[a_idx],
            a_pair,
            np.concatenate([sh[b_local], b_stored]),
            np.concatenate([b_local_pair, b_stored_pair]),
            len(rows),
        )

    def sketch(self, norm: pl.Series, rows: np.ndarray) -> Sketch:
        """Shingles and band keys of some rows of a batch of `normalized` texts. Reads no index state: it may
        run on another thread while the index takes the previous batch."""
        sh, off = shingles(norm.gather(rows))
        return Sketch(rows, sh, off, self._band_keys(sh, off))

    def add_batch(
        self, norm: pl.Series, alive: np.ndarray
    ) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
        """Check the alive (`normalized`) texts of a batch against the index and each other, in order; add the kept ones.

        Returns (kept mask over the batch, [(row, matched kept ordinal, Jaccard)] for near duplicates).
        Kept posts get ordinals self.size, self.size + 1, ... in batch order.
        """
        return self.add_sketched(self.sketch(norm, np.flatnonzero(alive)), alive)

    def add_sketched(
        self, sketch: Sketch, alive: np.ndarray
    ) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
        """`add_batch` for a batch sketched beforehand; the alive rows must be among the sketched ones."""
        rows = np.flatnonzero(alive)
        kept = np.zeros(len(alive), dtype=bool)
        if not len(rows):
            return kept, []
        sh, off, keys = sketch.of(rows)
        n = len(rows)
        flat = keys.ravel()  # (row, band) order
        srt = np.argsort(flat, kind="stable")  # one sort serves lookup, in-batch groups and insertion
        fs, ls = flat[srt], srt // self.bands  # sorted keys and their rows; equal keys in row order
        # candidate pairs (row, candidate): a candidate is a kept ordinal (>= 0) or ~ an earlier row of the batch
        needle, owner = self._runs.lookup(fs)  # the MAX_PER_KEY earliest kept posts of each band key
        from_index = fs[needle] != 0
        pair_rows, pair_cands = [ls[needle[from_index]]], [owner[from_index]]
        # within the batch: a row sharing a band key with earlier rows is compared with the MAX_PER_KEY earliest
        # of them (as across batches, where the index returns the earliest kept posts of a key)
        group_start = np.flatnonzero(np.r_[True, fs[1:] != fs[:-1]])
        start_of = np.repeat(group_start, np.diff(np.r_[group_start, len(fs)]))
        later = np.flatnonzero((start_of < np.arange(len(fs))) & (fs != 0))
        count = np.minimum(later - start_of[later], MAX_PER_KEY)
        pair_rows.append(np.repeat(ls[later], count))
        pair_cands.append(~ls[ranges(start_of[later], count)])
        # each pair once, by row, then candidate
        span = self.size + n + 1
        code = np.unique(np.concatenate(pair_rows) * span + (np.concatenate(pair_cands) + n))
        rows_of, cands_of = code // span, code % span - n
        sims = self._pair_sims(sh, off, rows_of, cands_of)
        dropped = np.zeros(n, dtype=bool)
        best: dict[
            int, tuple[int, float]
        ] = {}  # local row -> (candidate: ordinal or ~earlier local row, Jaccard)
        for j, c, sim in zip(rows_of.tolist(), cands_of.tolist(), sims.tolist(), strict=True):
            if c < 0 and dropped[~c]:
                continue  # that earlier row was dropped itself
            if sim >= self.threshold and sim > best.get(j, (0, 0.0))[1]:
                best[j] = (c, sim)
                dropped[j] = True  # pairs come in row order: later rows see it
        ordinal = np.where(dropped, -1, self.size + np.cumsum(~dropped) - 1)
        nxt = self.size + int((~dropped).sum())
        matches = [(int(rows[j]), int(ordinal[~c]) if c < 0 else c, sim) for j, (c, sim) in best.items()]
        keep_local = ordinal >= 0
        kept[rows[keep_local]] = True
        # add the kept posts: shingles and band keys
        kidx = np.flatnonzero(keep_local)
        lens = off[1:] - off[:-1]
        ends = len(self._sh) + np.cumsum(lens[kidx])
        self._sh.extend(sh[np.repeat(keep_local, lens)])
        self._sh_off.extend(ends)
        keep_sorted = keep_local[ls] & (fs != 0)  # still sorted: a subset of the sorted keys
        self._runs.add(fs[keep_sorted], ordinal[ls[keep_sorted]])
        self.size = nxt
        return kept, matches
