"""Dedup state that spills to disk, so ingest's memory does not grow with the corpus.

Two structures, both append-only, both plain numpy files (no pickle), in a folder the caller owns:
- `KeyRuns`: a multiset of uint64 keys -> int64 owners, as sorted runs merged like an LSM tree while small; a
  run that reaches `spill_keys` entries is written to disk and memory-mapped, and never merged again. Lookups
  search every run and return the MAX earliest owners of a key, so the answer does not depend on how the runs
  were cut.
- `AppendArray`: a growing 1-D array (post ids, shingles, offsets) whose items are written to a file once the
  in-memory tail passes `spill_bytes`; reads of old items go through a memory map.
Memory then holds the tails and the newest runs (bounded by the spill sizes) plus the pages of the maps that
a lookup touched: file-backed and reclaimable, not the process's own, and unmapped again after each run's
search and each gather, so that they do not pile up in the resident set.
Hand-written because no maintained library offers an append-only sorted multiset over numpy with this lookup;
the algorithm that uses it (MinHash LSH with exact Jaccard confirmation) is unchanged, and so is its result.
"""

from __future__ import annotations

import itertools
import mmap
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

_ids = itertools.count()
SPILL_BYTES = 64 << 20  # an AppendArray's in-memory tail before it goes to its file
SPILL_KEYS = 8 << 20  # entries of a KeyRuns run (16 bytes each) before it goes to disk
# a spilling KeyRuns' Bloom filter, 128 MB: false positives measured 1.0% at 50M keys, 3.3% at 100M
FILTER_BITS = 1 << 30


def _drop_pages(arr: np.ndarray | None) -> None:
    """Unmap the pages of a memory-mapped array from this process (they stay in the OS's file cache and come
    back on the next read): what a lookup touched does not pile up in the resident set."""
    m = getattr(arr, "_mmap", None)
    if isinstance(m, mmap.mmap) and hasattr(m, "madvise"):
        m.madvise(mmap.MADV_DONTNEED)


def ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated aranges: starts[0] .. starts[0]+lens[0]-1, starts[1] .. (the indices of the ranges' items)."""
    lens = np.asarray(lens, dtype=np.int64)
    total = int(lens.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    first = np.cumsum(lens) - lens  # where each range begins in the output
    return np.arange(total, dtype=np.int64) + np.repeat(np.asarray(starts, dtype=np.int64) - first, lens)


def searchsorted_paged(keys: np.ndarray, needles: np.ndarray, side: str = "left") -> np.ndarray:
    """np.searchsorted(keys, needles, side) for a memory-mapped `keys`, reading only the pages on the needles'
    search paths: numpy's own searchsorted reads the whole array (measured: 10 needles into a 38 MB map made all
    of it resident), which for a run on disk costs its whole size in I/O and resident pages on every call."""
    lo = np.zeros(len(needles), dtype=np.int64)
    hi = np.full(len(needles), len(keys), dtype=np.int64)
    while True:
        active = np.flatnonzero(lo < hi)
        if not len(active):
            return lo
        mid = (lo[active] + hi[active]) // 2
        v, nd = keys[mid], needles[active]
        go_right = v < nd if side == "left" else v <= nd
        lo[active[go_right]] = mid[go_right] + 1
        hi[active[~go_right]] = mid[~go_right]


class Bloom:
    """A blocked Bloom filter over uint64 keys that are already hashes: each key sets two bits (from the key
    times an odd constant) in one 64-bit word (from the key's high bits), so an add or a lookup costs one
    random memory access per key, not two. No false negatives; it lets most lookups skip the disk runs."""

    _C = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, bits: int):
        assert bits >= 64 and bits & (bits - 1) == 0, "a power of two, one word at least"
        self.shift = np.uint64(64 - (bits.bit_length() - 1 - 6))  # 64 bits per word
        self.words = np.zeros(bits // 64, dtype=np.uint64)

    def _probes(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(word of each key, its two-bit mask)."""
        k = keys.astype(np.uint64, copy=False)
        m = k * self._C
        one = np.uint64(1)
        return k >> self.shift, (one << (m >> np.uint64(58))) | (
            one << ((m >> np.uint64(52)) & np.uint64(63))
        )

    def add(self, keys: np.ndarray) -> None:
        w, mask = self._probes(keys)
        while len(w):  # np.bitwise_or.at is 3x slower: scatter, then again for the keys whose word repeated
            self.words[w] |= mask
            miss = (self.words[w] & mask) != mask
            w, mask = w[miss], mask[miss]

    def may_contain(self, keys: np.ndarray) -> np.ndarray:
        w, mask = self._probes(keys)
        return (self.words[w] & mask) == mask


class AppendArray:
    def __init__(self, dtype: type | np.dtype, folder: Path | None, spill_bytes: int | None = None):
        self.dtype = np.dtype(dtype)
        self.folder = folder
        self.spill_items = max(1, (spill_bytes or SPILL_BYTES) // self.dtype.itemsize)
        self._tail: list[np.ndarray] = []
        self._tail_len = 0
        self._on_disk = 0  # items written to the file
        self._path: Path | None = None
        self._map: np.ndarray | None = None

    def __len__(self) -> int:
        return self._on_disk + self._tail_len

    def extend(self, values: np.ndarray) -> None:
        if len(values):
            self._tail.append(np.asarray(values, dtype=self.dtype))
            self._tail_len += len(values)
        if self.folder is not None and self._tail_len >= self.spill_items:
            if self._path is None:
                self._path = self.folder / f"array-{next(_ids)}.bin"
            with self._path.open("ab") as f:
                for t in self._tail:
                    t.tofile(f)
            self._on_disk += self._tail_len
            self._tail, self._tail_len, self._map = [], 0, None

    def _disk(self) -> np.ndarray:
        if self._map is None or len(self._map) != self._on_disk:
            assert self._path is not None
            self._map = np.memmap(self._path, dtype=self.dtype, mode="r", shape=(self._on_disk,))
        return self._map

    def slice(self, a: int, b: int) -> np.ndarray:
        """Items a..b-1 (a copy when they straddle the file and the tail)."""
        if a >= b:
            return np.empty(0, dtype=self.dtype)
        parts = []
        if a < self._on_disk:
            parts.append(np.asarray(self._disk()[a : min(b, self._on_disk)]))
        if b > self._on_disk:
            tail = np.concatenate(self._tail) if len(self._tail) > 1 else self._tail[0]
            self._tail = [tail]  # concatenated once, until the next extend
            parts.append(tail[max(a - self._on_disk, 0) : b - self._on_disk])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def take(self, idx: np.ndarray) -> np.ndarray:
        """Items at the indices `idx` (any order), reading only their pages of the file."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.empty(len(idx), dtype=self.dtype)
        on_disk = idx < self._on_disk
        if on_disk.any():
            out[on_disk] = self._disk()[idx[on_disk]]
            self.release()  # a gather touches pages all over the file: unmapped at once, not at the chunk's end
        if not on_disk.all():
            out[~on_disk] = self.slice(self._on_disk, len(self))[idx[~on_disk] - self._on_disk]
        return out

    def __getitem__(self, i: int) -> np.generic:
        return self.slice(i, i + 1)[0]

    def release(self) -> None:
        _drop_pages(self._map)


class KeyRuns:
    def __init__(self, folder: Path | None, max_owners: int, spill_keys: int | None = None):
        self.folder = folder
        self.max_owners = max_owners
        self.spill_keys = spill_keys or SPILL_KEYS
        self.keys: list[np.ndarray] = []  # in memory, largest first
        self.owners: list[np.ndarray] = []
        self.disk: list[tuple[np.ndarray, np.ndarray]] = []  # memory-mapped runs, oldest first
        self.filter = Bloom(FILTER_BITS) if folder is not None else None  # every key added, memory and disk

    def add(self, keys: np.ndarray, owners: np.ndarray) -> None:
        """Add keys (sorted) with their owners; owners of one key must arrive in increasing order."""
        if not len(keys):
            return
        if self.filter is not None:
            self.filter.add(keys)
        self.keys.append(keys)
        self.owners.append(owners)
        while len(self.keys) > 1 and 2 * len(self.keys[-1]) >= len(self.keys[-2]):
            k2, o2 = self.keys.pop(), self.owners.pop()
            k1, o1 = self.keys.pop(), self.owners.pop()
            k, o = np.concatenate([k1, k2]), np.concatenate([o1, o2])
            order = np.argsort(k, kind="stable")  # timsort: two sorted runs merge in linear time
            self.keys.append(k[order])
            self.owners.append(o[order])
        if self.folder is not None and len(self.keys[0]) >= self.spill_keys:
            k, o = self.keys.pop(0), self.owners.pop(0)
            n = next(_ids)
            np.save(self.folder / f"run-{n}-keys.npy", k)
            np.save(self.folder / f"run-{n}-owners.npy", o)
            self.disk.append(
                (
                    np.load(self.folder / f"run-{n}-keys.npy", mmap_mode="r"),
                    np.load(self.folder / f"run-{n}-owners.npy", mmap_mode="r"),
                )
            )

    def lookup(self, sorted_needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The `max_owners` earliest owners of each needle's key, over all runs, as two arrays (needle index,
        owner), sorted by needle, then owner; needles found nowhere do not appear."""
        where = np.arange(len(sorted_needles))
        if self.filter is not None:  # most needles are in no run: the filter says so without a search
            where = np.flatnonzero(self.filter.may_contain(sorted_needles))
        needles = sorted_needles[where]
        runs: list[tuple[np.ndarray, np.ndarray, Callable[..., np.ndarray]]]
        runs = [(k, o, searchsorted_paged) for k, o in self.disk]
        runs += [(k, o, np.searchsorted) for k, o in zip(self.keys, self.owners, strict=True)]
        found_needle, found_owner = [], []
        for keys, owners, search in runs:
            if not len(needles):
                break
            lo = search(keys, needles, side="left")  # sorted needles: cache-friendly
            hit = np.flatnonzero(keys[np.minimum(lo, len(keys) - 1)] == needles)
            if len(hit):
                lo = lo[hit]
                count = np.minimum(search(keys, needles[hit], side="right") - lo, self.max_owners)
                found_needle.append(np.repeat(where[hit], count))
                found_owner.append(np.array(owners[ranges(lo, count)]))
            # a search touches pages all over a run: unmapped after each run, so that one run's pages at most
            # are resident at a time (not every run's until the chunk's end)
            _drop_pages(keys)
            _drop_pages(owners)
        if not found_needle:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        needle, owner = np.concatenate(found_needle), np.concatenate(found_owner).astype(np.int64)
        order = np.lexsort((owner, needle))
        needle, owner = needle[order], owner[order]
        first = np.flatnonzero(np.r_[True, needle[1:] != needle[:-1]])
        rank = np.arange(len(needle)) - np.repeat(first, np.diff(np.r_[first, len(needle)]))
        keep = rank < self.max_owners
        return needle[keep], owner[keep]

    def release(self) -> None:
        for keys, owners in self.disk:
            _drop_pages(keys)
            _drop_pages(owners)


def spill_folder(root: str | Path | None) -> tempfile.TemporaryDirectory[str] | None:
    """A temporary folder under `root` for spilled state (None: keep everything in memory)."""
    if root is None:
        return None
    Path(root).mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix="dedup-", dir=root)
