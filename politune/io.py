"""Small file helpers: atomic writes (tmp + rename), JSON and JSONL.

A reader never sees a half-written output: everything is written to a temporary sibling and renamed
into place only when complete.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

# errors that mean "out of room", whatever the filesystem: no space, quota, file-size limit (ulimit -f)
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_writing: list[Path] = []  # final paths of the atomic outputs being written now, outermost first


def _os_errno(e: BaseException) -> int | None:
    """The errno `e` carries: OSError.errno, or the "(os error N)" that Rust writers (polars, tokenizers) put in
    the message of the OSError or bare Exception they raise."""
    if isinstance(e, OSError) and e.errno is not None:
        return e.errno
    m = re.search(r"\(os error (\d+)\)", str(e))
    return int(m.group(1)) if m else None


def disk_full_errno(e: BaseException) -> int | None:
    """ENOSPC, EDQUOT or EFBIG when `e` means the disk (or the file-size limit) is full, else None. torch.save
    (the trainer's optimizer and RNG state) raises a RuntimeError from its zip writer with no errno at all,
    counted as ENOSPC: a failed checkpoint write is a full disk or a file-size limit in practice."""
    n = _os_errno(e)
    if n is None and isinstance(e, RuntimeError) and "inline_container.cc" in str(e):
        n = errno.ENOSPC
    return n if n in DISK_FULL_ERRNOS else None


class DiskFullError(OSError):
    """Writing an output ran out of room. `filename` names what was being written; nothing was promoted."""


def disk_full(e: BaseException, paths: list[Path]) -> DiskFullError:
    """The error to raise for a full disk (`disk_full_errno(e)` is set), naming `paths` (what was being
    written) and the free space there."""
    n = disk_full_errno(e) or errno.ENOSPC
    reason = (
        os.strerror(n)
        if _os_errno(e) is not None
        else f"a write failed ({str(e)[:120]}): most likely a full disk or file-size limit"
    )
    where = paths[0].resolve().parent
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    return DiskFullError(
        n, f"{reason} ({free / 2**20:.1f} MiB free under {where})", ", ".join(str(p) for p in paths)
    )


def disk_full_message(e: BaseException, n: int) -> str:
    """One line for a user whose run stopped on a full disk (`n` = disk_full_errno(e)): what was being
    written, that nothing half-written was kept, and what to do."""
    where = (
        e.filename
        if isinstance(e, OSError) and e.filename
        else f"(the system did not say which file; {shutil.disk_usage('.').free / 2**20:.1f} MiB free under "
        f"{Path.cwd()})"
    )
    reason = e.strerror if isinstance(e, OSError) and e.strerror else os.strerror(n)
    return (
        f"out of disk space writing {where}: {reason}. No half-written file reached an output's name and "
        "earlier stages' outputs are intact; free space (or raise the file-size limit, `ulimit -f`) and rerun "
        "`dvc repro`"
    )


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` if the block succeeds.

    Works for files and directories. On error the temporary is removed and `path` is untouched. A file is
    replaced in one rename; a directory in two (the old one moved aside, the new one moved in), so a crash can
    at worst leave no directory under the name, never a half-written or half-deleted one. Temporaries left by
    a killed run (kill -9 skips the clean-up) are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    target = tmp / path.name
    _writing.append(path)
    try:
        try:
            yield target
        except Exception as e:
            if not isinstance(e, DiskFullError) and disk_full_errno(e):
                # a failed write does not say which file: name every output being written at the moment
                raise disk_full(e, list(_writing)) from e
            raise
        if not target.exists():
            raise FileNotFoundError(f"nothing was written to the temporary {target} for {path}")
        if path.is_dir() and not path.is_symlink():
            os.rename(path, tmp / ".old")  # deleted with the temporary below
        os.replace(target, path)
    finally:
        _writing.remove(path)
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: str | Path, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> int:
    n = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> list[Any]:
    """Rows of a JSONL file, as json.loads gives them (Any): annotate the variable with the record type it
    holds (politune.records), e.g. `pairs: list[Pair] = read_jsonl(...)`."""
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
