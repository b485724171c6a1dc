"""Text cleaning and deduplication.

clean_text: Unicode NFC; zero-width and bidi control characters removed; URLs -> "<url>",
@mentions -> "@user"; whitespace collapsed. Dedup: exact (on a normalized key: casefold, no
punctuation or symbols) and near-duplicate (MinHash over word 3-gram shingles with LSH banding,
candidates confirmed by exact Jaccard >= threshold).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict

import numpy as np

# zero-width (U+200B-U+200D, U+2060, U+FEFF) and bidi controls (U+200E/F, U+202A-U+202E, U+2066-U+2069)
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_WS = re.compile(r"\s+")
URL_TOKEN = "<url>"


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _URL.sub(URL_TOKEN, text)
    text = _MENTION.sub("@user", text)
    return _WS.sub(" ", text).strip()


def is_url_only(cleaned: str) -> bool:
    rest = cleaned.replace(URL_TOKEN, "")
    return URL_TOKEN in cleaned and not re.search(r"\w", rest)


def dedup_key(cleaned: str) -> str:
    """Key for exact duplicates: case, punctuation, symbols (emoji) and spacing do not count."""
    t = unicodedata.normalize("NFKC", cleaned).casefold()
    t = "".join(c for c in t if unicodedata.category(c)[0] in "LN" or c.isspace())
    return hashlib.sha1(_WS.sub(" ", t).strip().encode()).hexdigest()


def _shingles(cleaned: str, n: int = 3) -> set[str]:
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", cleaned).casefold())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


class NearDupIndex:
    """MinHash LSH: 64 permutations in 16 bands of 4 rows; a pair whose Jaccard similarity is s
    becomes a candidate with probability 1-(1-s^4)^16 (0.8 -> 0.9996, 0.5 -> 0.64, 0.3 -> 0.12)."""

    def __init__(self, threshold: float, num_perm: int = 64, bands: int = 16, seed: int = 1):
        self.threshold = threshold
        self.bands = bands
        self.rows = num_perm // bands
        rng = np.random.default_rng(seed)
        self._p = np.uint64((1 << 61) - 1)
        self._a = rng.integers(1, (1 << 61) - 1, num_perm, dtype=np.uint64)
        self._b = rng.integers(0, (1 << 61) - 1, num_perm, dtype=np.uint64)
        self._buckets: list[dict[bytes, list[int]]] = [defaultdict(list) for _ in range(bands)]
        self._sets: list[set[str]] = []

    def _signature(self, sh: set[str]) -> np.ndarray:
        hv = np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=7).digest(), "little") for s in sh],
                      dtype=np.uint64)
        # (a*x + b) mod p, with uint64 wraparound; fine as a hash family for LSH
        return ((np.outer(hv, self._a) + self._b) % self._p).min(axis=0)

    def add_or_match(self, cleaned: str) -> tuple[int | None, float]:
        """Return (index of the earlier near-duplicate, similarity) or (None, 0) after adding the text."""
        sh = _shingles(cleaned)
        if not sh:
            self._sets.append(sh)
            return None, 0.0
        sig = self._signature(sh)
        keys = [sig[i * self.rows : (i + 1) * self.rows].tobytes() for i in range(self.bands)]
        best, best_sim = None, 0.0
        seen: set[int] = set()
        for band, key in enumerate(keys):
            for j in self._buckets[band].get(key, ()):
                if j in seen:
                    continue
                seen.add(j)
                other = self._sets[j]
                sim = len(sh & other) / len(sh | other)
                if sim >= self.threshold and sim > best_sim:
                    best, best_sim = j, sim
        if best is not None:
            return best, best_sim
        idx = len(self._sets)
        self._sets.append(sh)
        for band, key in enumerate(keys):
            self._buckets[band][key].append(idx)
        return None, 0.0
