"""Small file helpers: atomic writes (tmp + rename), JSON and JSONL.

A reader never sees a half-written output: everything is written to a temporary sibling and renamed
into place only when complete.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# errors that mean "out of room", whatever the filesystem: no space, quota, file-size limit (ulimit -f)
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_writing: list[Path] = []  # final paths of the atomic outputs being written now, outermost first


def disk_full_errno(e: BaseException) -> int | None:
    """ENOSPC, EDQUOT or EFBIG when `e` means the disk (or the file-size limit) is full, else None. Rust
    writers (polars, tokenizers) raise OSError or a bare Exception saying "... (os error 28)"."""
    n = e.errno if isinstance(e, OSError) else None
    if n is None and (m := re.search(r"\(os error (\d+)\)", str(e))):
        n = int(m.group(1))
    return n if n in DISK_FULL_ERRNOS else None


class DiskFullError(OSError):
    """Writing an output ran out of room. `filename` names what was being written; nothing was promoted."""


def disk_full(errno_: int, paths: list[Path]) -> DiskFullError:
    """The error to raise for a full disk, naming `paths` (what was being written) and the free space there."""
    where = paths[0].resolve().parent
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    return DiskFullError(errno_, f"{os.strerror(errno_)} ({free / 2**20:.1f} MiB free under {where})",
                         ", ".join(str(p) for p in paths))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` if the block succeeds.

    Works for files and directories. On error the temporary is removed and `path` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    target = tmp / path.name
    _writing.append(path)
    try:
        try:
            yield target
        except Exception as e:
            if not isinstance(e, DiskFullError) and (n := disk_full_errno(e)):
                # a failed write does not say which file: name every output being written at the moment
                raise disk_full(n, list(_writing)) from e
            raise
        if not target.exists():
            raise FileNotFoundError(f"nothing was written to the temporary {target} for {path}")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        os.replace(target, path)
    finally:
        _writing.remove(path)
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: str | Path, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
