"""Dedup state that spills to disk, so ingest's memory does not grow with the corpus.

Two structures, both append-only, both plain numpy files (no pickle), in a folder the caller owns:
- `KeyRuns`: a multiset of uint64 keys -> int64 owners, as sorted runs merged like an LSM tree while small; a
  run that reaches `spill_keys` entries is written to disk and memory-mapped, and never merged again. Lookups
  search every run and return the MAX earliest owners of a key, so the answer does not depend on how the runs
  were cut.
- `AppendArray`: a growing 1-D array (post ids, shingles, offsets) whose items are written to a file once the
  in-memory tail passes `spill_bytes`; reads of old items go through a memory map.
Memory then holds the tails and the newest runs (bounded by the spill sizes) plus the pages of the maps the
operating system chooses to keep: those are file-backed and reclaimable, not the process's own.
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
FILTER_BITS = 1 << 30  # a spilling KeyRuns' Bloom filter: 128 MB, 3% false positives at 100 million keys


def _drop_pages(arr: np.ndarray | None) -> None:
    """Unmap the pages of a memory-mapped array from this process (they stay in the OS's file cache and come
    back on the next read): what a lookup touched does not pile up in the resident set."""
    m = getattr(arr, "_mmap", None)
    if isinstance(m, mmap.mmap) and hasattr(m, "madvise"):
        m.madvise(mmap.MADV_DONTNEED)


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
    """A fixed-size Bloom filter over uint64 keys that are already hashes (two probes from the key's high bits
    and from the key times an odd constant). No false negatives; it lets most lookups skip the disk runs."""

    _C = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, bits: int):
        self.shift = np.uint64(64 - (bits.bit_length() - 1))  # bits is a power of two
        self.words = np.zeros(bits // 64, dtype=np.uint64)

    def _probes(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = keys.astype(np.uint64, copy=False)
        return k >> self.shift, (k * self._C) >> self.shift

    def add(self, keys: np.ndarray) -> None:
        for pos in self._probes(keys):
            np.bitwise_or.at(self.words, pos >> np.uint64(6), np.uint64(1) << (pos & np.uint64(63)))

    def may_contain(self, keys: np.ndarray) -> np.ndarray:
        hit = np.ones(len(keys), dtype=bool)
        for pos in self._probes(keys):
            hit &= (self.words[pos >> np.uint64(6)] >> (pos & np.uint64(63))) & np.uint64(1) == 1
        return hit


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

    def lookup(self, sorted_needles: np.ndarray) -> dict[int, list[int]]:
        """needle index -> the `max_owners` earliest owners of its key, over all runs (found needles only)."""
        found: dict[int, list[int]] = {}
        where = np.arange(len(sorted_needles))
        if self.filter is not None:  # most needles are in no run: the filter says so without a search
            where = np.flatnonzero(self.filter.may_contain(sorted_needles))
        needles = sorted_needles[where]
        runs: list[tuple[np.ndarray, np.ndarray, Callable[..., np.ndarray]]]
        runs = [(k, o, searchsorted_paged) for k, o in self.disk]
        runs += [(k, o, np.searchsorted) for k, o in zip(self.keys, self.owners, strict=True)]
        for keys, owners, search in runs:
            if not len(needles):
                break
            lo = search(keys, needles, side="left")  # sorted needles: cache-friendly
            hit = np.flatnonzero(keys[np.minimum(lo, len(keys) - 1)] == needles)
            if not len(hit):
                continue
            hi = search(keys, needles[hit], side="right")
            for f, a, b in zip(where[hit].tolist(), lo[hit].tolist(), hi.tolist(), strict=True):
                found.setdefault(f, []).extend(owners[a : min(b, a + self.max_owners)].tolist())
        return {f: sorted(o)[: self.max_owners] for f, o in found.items()}

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
