"""Process faults on a real stage command: SIGINT, a full disk (the file-size limit), a stage failing halfway
under `dvc repro`. Each checks the exit status, that no half-written file reached an output's name, and that
earlier outputs are intact, and records its figures in the fault table (docs/faults.md)."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.faults
OUTPUTS = ("data/interim/posts.jsonl", "metrics/ingest.json")


def env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }


def generated_corpus(repo: Path, rows: int) -> None:
    """Point params at two generated JSONL corpora (one per side) of `rows` distinct posts each."""
    words = [f"w{i}" for i in range(500)] + ["tax", "border", "union", "wage", "health", "vote", "court"]
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["corpora"] = {}
    for side in ("left", "right"):
        rng = random.Random(side)
        path = repo / "data" / "raw" / f"{side}.jsonl"
        with path.open("w") as f:
            for i in range(rows):
                f.write(
                    json.dumps({"id": i, "text": f"{side} says " + " ".join(rng.choices(words, k=20))}) + "\n"
                )
        raw["corpora"][side] = {
            "format": "jsonl",
            "path": f"data/raw/{side}.jsonl",
            "side": side,
            "id_column": "id",
        }
    (repo / "params.yaml").write_text(yaml.safe_dump(raw))


def social_media_dumps(repo: Path, rows: int = 300) -> None:
    """Point params at small dumps in the two real social-media formats, written here: a Truth Social
    truths.tsv (right) and a Politosphere folder of two monthly comments_*.bz2 files with subreddit metadata
    (left)."""
    import bz2

    words = [f"w{i}" for i in range(500)] + ["tax", "border", "union", "wage", "health", "vote", "court"]
    raw_dir = repo / "data" / "raw"
    pol = raw_dir / "politosphere"
    pol.mkdir(parents=True, exist_ok=True)
    (pol / "subreddits_metadata.json").write_text('{"subreddit": "democrats", "party": "dem"}\n')
    rng = random.Random(0)
    for month in ("2019-01", "2019-02"):
        lines = [
            json.dumps(
                {
                    "id": f"{month}-{i}",
                    "body": "left says " + " ".join(rng.choices(words, k=20)),
                    "subreddit": "democrats",
                    "author": "a",
                }
            )
            for i in range(rows)
        ]
        with bz2.open(pol / f"comments_{month}.bz2", "wb") as f:
            f.write(("\n".join(lines) + "\n").encode())
    header = "id\ttimestamp\ttime_scraped\tis_retruth\tis_reply\tauthor\tlike_count\tretruth_count\treply_count\ttext"
    tsv = [header] + [
        f"{i}\t2022-08-01\t2022-09-01\tf\tf\t7\t1\t0\t0\tright says " + " ".join(rng.choices(words, k=20))
        for i in range(rows)
    ]
    (raw_dir / "truths.tsv").write_text("\n".join(tsv) + "\n")
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["corpora"] = {
        "truthsocial": {"format": "truthsocial", "path": "data/raw/truths.tsv", "side": "right"},
        "politosphere": {
            "format": "politosphere",
            "path": "data/raw/politosphere",
            "metadata": "data/raw/politosphere/subreddits_metadata.json",
            "parties": ["dem"],
            "side": "left",
        },
    }
    (repo / "params.yaml").write_text(yaml.safe_dump(raw))


def previous_outputs(repo: Path) -> dict[str, bytes]:
    """Stand-ins for a previous run's outputs: they must come through the fault byte for byte."""
    out = {}
    for rel in OUTPUTS:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(f"previous run's {rel}\n".encode())
        out[rel] = (repo / rel).read_bytes()
    return out


def leftovers(repo: Path) -> list[str]:
    return sorted(str(p.relative_to(repo)) for p in repo.rglob("*.tmp"))


def test_sigint_mid_write_promotes_nothing(repo_copy: Path, fault_record) -> None:  # noqa: ANN001
    generated_corpus(repo_copy, 150_000)
    before = previous_outputs(repo_copy)
    # SIG_DFL in the child: a shell that starts pytest in the background ignores SIGINT, and Python would inherit
    # that and never raise KeyboardInterrupt
    proc = subprocess.Popen(
        [sys.executable, "-m", "stages.ingest"],
        cwd=repo_copy,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    t0 = time.time()
    tmp: list[Path] = []
    # wait until the stage is writing its output: the temporary beside posts.jsonl has data in it
    while time.time() - t0 < 120 and proc.poll() is None:
        tmp = [
            p
            for p in (repo_copy / "data" / "interim").glob(".posts.jsonl.*.tmp/posts.jsonl")
            if p.stat().st_size
        ]
        if tmp:
            break
        time.sleep(0.05)
    assert tmp and proc.poll() is None, "the stage finished before it could be interrupted"
    written = tmp[0].stat().st_size
    t_int = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    stopped = time.time() - t_int
    assert proc.returncode == 130, err[-2000:]
    assert "error in stage ingest: interrupted" in err and "Traceback" not in err, err[-2000:]
    for rel, data in before.items():
        assert (repo_copy / rel).read_bytes() == data, f"{rel} changed"
    assert leftovers(repo_copy) == []
    fault_record(
        "SIGINT (Ctrl-C) mid-stage",
        f"SIGINT to `python -m stages.ingest` while its temporary output held {written / 2**20:.1f} MiB",
        "exit 130, one-line message; previous posts.jsonl and metrics byte-identical; temporaries removed",
        bytes_discarded=f"{written / 2**20:.1f} MiB",
        seconds_to_exit=f"{stopped:.2f}",
        temporaries_left=0,
    )


def _limit_file_size(limit: int):  # noqa: ANN202
    def pre() -> None:
        # a write past the limit fails with EFBIG instead of killing
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def test_disk_full_names_the_path_and_keeps_earlier_outputs(repo_copy: Path, fault_record) -> None:  # noqa: ANN001
    generated_corpus(repo_copy, 20_000)
    before = previous_outputs(repo_copy)
    limit = 1 << 20
    t0 = time.time()
    p = subprocess.run(
        [sys.executable, "-m", "stages.ingest"],
        cwd=repo_copy,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size(limit),
    )
    took = time.time() - t0
    assert p.returncode == 1, p.stderr[-3000:]
    line = next(ln for ln in p.stderr.splitlines() if ln.startswith("error in stage ingest"))
    assert "out of disk space writing data/interim/posts.jsonl" in line and "File too large" in line, line
    assert "MiB free under" in line and "Traceback" not in p.stderr
    for rel, data in before.items():
        assert (repo_copy / rel).read_bytes() == data, f"{rel} changed"
    assert leftovers(repo_copy) == []
    # the same run with room succeeds: nothing was left behind that blocks it
    ok = subprocess.run(
        [sys.executable, "-m", "stages.ingest"],
        cwd=repo_copy,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stderr[-3000:]
    size = (repo_copy / OUTPUTS[0]).stat().st_size
    assert size > limit
    fault_record(
        "Disk full while writing an output",
        f"file-size limit of {limit >> 20} MiB (`ulimit -f`, EFBIG) "
        f"on the ingest stage, whose output is {size / 2**20:.1f} MiB",
        "exit 1; the message names data/interim/posts.jsonl, the errno text and the free space; previous "
        "outputs byte-identical; rerun with room succeeds",
        seconds_to_fail=f"{took:.1f}",
        temporaries_left=0,
        message=line.split(": ", 1)[1][:90] + "...",
    )


def test_no_space_left_on_a_real_small_filesystem(repo_copy: Path, fault_record) -> None:  # noqa: ANN001
    """ENOSPC from a real 2 MiB tmpfs mounted over data/interim (needs root and mount; skipped otherwise)."""
    interim = repo_copy / "data" / "interim"
    interim.mkdir(parents=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    m = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(interim)], capture_output=True, text=True
    )
    if m.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {m.stderr.strip()}")
    try:
        generated_corpus(repo_copy, 20_000)
        before = previous_outputs(repo_copy)
        p = subprocess.run(
            [sys.executable, "-m", "stages.ingest"],
            cwd=repo_copy,
            env=env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert p.returncode == 1, p.stderr[-3000:]
        line = next(ln for ln in p.stderr.splitlines() if ln.startswith("error in stage ingest"))
        assert "out of disk space writing data/interim/posts.jsonl" in line, line
        assert "No space left on device" in line and "Traceback" not in p.stderr, line
        for rel, data in before.items():
            assert (repo_copy / rel).read_bytes() == data, f"{rel} changed"
        assert leftovers(repo_copy) == []
        free = shutil.disk_usage(interim).free
        assert free > 1.9 * 2**20  # the temporary's space was given back
    finally:
        subprocess.run(["umount", str(interim)], check=False)
    fault_record(
        "No space left on device",
        "a 2 MiB tmpfs mounted over data/interim (ENOSPC); the ingest output needs about 10 MiB",
        "exit 1 naming the output and the free space; the previous output "
        "on the full filesystem byte-identical; the temporary removed, freeing the space",
        free_after_failure=f"{free / 2**20:.1f} of 2 MiB",
        temporaries_left=0,
    )


def test_rowcache_chunk_on_full_disk_leaves_no_part(tmp_path: Path, fault_record) -> None:  # noqa: ANN001
    """The annotation cache under a full disk: the chunk in flight fails with its folder named, no partial part
    file is left, the finished chunks stay readable."""
    code = f"""
import sys
from politune.rowcache import RowCache
c = RowCache({str(tmp_path / "cache")!r}, "ctx")
c.put_chunk(["a", "b"], [{{"x": 1}}, {{"x": 2}}])
try:
    c.put_chunk(["big"], [{{"x": "y" * 200_000}}])
except OSError as e:
    print(type(e).__name__, e.errno, e.filename)
    sys.exit(3)
"""
    p = subprocess.run(
        [sys.executable, "-c", code],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size(100_000),
    )
    assert p.returncode == 3, p.stderr
    name, errno_, where = p.stdout.split()
    assert name == "DiskFullError" and where.startswith(str(tmp_path / "cache"))
    from politune.rowcache import RowCache

    c = RowCache(tmp_path / "cache", "ctx")
    assert c.parts_read == 1 and c.get("a") == {"x": 1} and c.get("big") is None
    assert [f.name for f in (tmp_path / "cache").iterdir() if not f.name.startswith("part-")] == []
    fault_record(
        "Disk full while caching annotations",
        "file-size limit of 100 kB while an annotation chunk is written",
        "DiskFullError naming the cache folder; the partial chunk file removed; the finished "
        "chunk still read back",
        finished_chunks_kept="1 of 1",
        partial_files_left=0,
    )


def _dvc(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["dvc", *args], cwd=cwd, env=env(), capture_output=True, text=True, timeout=600)


def _runs(repo: Path) -> list[str]:
    runs = repo / ".dvc" / "cache" / "runs"
    return sorted(str(p.relative_to(runs)) for p in runs.rglob("*") if p.is_file()) if runs.exists() else []


@pytest.mark.slow
def test_stage_failing_halfway_is_never_recorded(tmp_path: Path, git_copy, fault_record) -> None:  # noqa: ANN001
    """`dvc repro ingest` where the second Politosphere file is cut in half: the stage has already ingested
    Truth Social and the first file when it fails. Exit non-zero; dvc.lock and the run cache unchanged; no
    partial posts.jsonl; after the file is repaired, DVC restores the earlier result from its run cache."""
    repo = git_copy(tmp_path / "politune")
    social_media_dumps(repo)
    ok = _dvc(["repro", "ingest"], repo)
    assert ok.returncode == 0, ok.stderr[-3000:]
    lock, runs = (repo / "dvc.lock").read_bytes(), _runs(repo)
    good = (repo / "data/interim/posts.jsonl").read_bytes()
    metrics = (repo / "metrics/ingest.json").read_bytes()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run([*git, "commit", "-qm", "ingest ran"], cwd=repo, check=True, capture_output=True)
    bz = repo / "data" / "raw" / "politosphere" / "comments_2019-02.bz2"
    intact = bz.read_bytes()
    bz.write_bytes(intact[: len(intact) // 2])
    bad = _dvc(["repro", "ingest"], repo)
    assert bad.returncode != 0
    err = bad.stdout + bad.stderr
    assert "comments_2019-02.bz2: cannot decompress" in err, err[-3000:]
    assert (repo / "dvc.lock").read_bytes() == lock and _runs(repo) == runs
    assert not (repo / "data/interim/posts.jsonl").exists() and leftovers(repo) == []
    status = json.loads(_dvc(["status", "--json"], repo).stdout)
    assert "ingest" in status  # DVC knows the stage is not done
    # the previous output is still in DVC's cache: `dvc checkout` brings it back without running anything
    assert _dvc(["checkout", "ingest"], repo).returncode == 0
    assert (repo / "data/interim/posts.jsonl").read_bytes() == good
    # a `cache: false` output (the metrics) is not in DVC's cache: DVC deleted it, git brings it back
    assert not (repo / "metrics/ingest.json").exists()
    subprocess.run(
        ["git", "checkout", "--", "metrics/ingest.json"], cwd=repo, check=True, capture_output=True
    )
    assert (repo / "metrics/ingest.json").read_bytes() == metrics
    bz.write_bytes(intact)
    t0 = time.time()
    again = _dvc(["repro", "ingest"], repo)
    took = time.time() - t0
    assert again.returncode == 0 and (repo / "data/interim/posts.jsonl").read_bytes() == good
    # restored from the run cache, not recomputed
    assert "Running stage 'ingest'" not in again.stdout, again.stdout + again.stderr
    fault_record(
        "A stage failing halfway under `dvc repro`",
        "second Politosphere file cut in half; ingest fails after two of three files",
        "non-zero exit naming the file; dvc.lock and run cache unchanged; no "
        "partial posts.jsonl; `dvc checkout ingest` brings back the previous output and "
        "`git checkout -- metrics/ingest.json` its metrics; once repaired, "
        "`dvc repro` restores the earlier output from the run cache",
        dvc_lock_changed="no",
        run_cache_entries_added=len(_runs(repo)) - len(runs),
        seconds_to_recover=f"{took:.1f}",
        rows_recomputed=0,
    )


def test_torch_checkpoint_write_on_full_disk_is_recognised(tmp_path: Path) -> None:
    """torch.save (the trainer's optimizer and RNG state) raises a RuntimeError without an errno when the
    disk is full: it still counts as a full disk, so the train stage reports it with the free space."""
    code = f"""
import torch
from pathlib import Path
from politune.io import disk_full, disk_full_errno
try:
    torch.save({{"w": torch.zeros(100_000)}}, {str(tmp_path / "optimizer.pt")!r})
except Exception as e:
    print(type(e).__name__, disk_full_errno(e))
    print(disk_full(e, [Path({str(tmp_path / "checkpoints")!r})]))
"""
    p = subprocess.run(
        [sys.executable, "-c", code],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size(4096),
    )
    first, message = p.stdout.splitlines()[:2]
    assert first.split()[1] != "None", (p.stdout, p.stderr[-2000:])
    assert "most likely a full disk or file-size limit" in message and "MiB free under" in message, message
    assert str(tmp_path / "checkpoints") in message


def test_atomic_path_swaps_folders_and_removes_stale_temporaries(tmp_path: Path) -> None:
    from politune.io import atomic_path

    out = tmp_path / "pairs"
    (out / "left").mkdir(parents=True)
    (out / "left" / "train.jsonl").write_text("old\n")
    stale = tmp_path / ".pairs.x1y2.tmp"  # what a kill -9 during an earlier run leaves behind
    (stale / "pairs").mkdir(parents=True)
    with atomic_path(out) as tmp:
        (tmp / "right").mkdir(parents=True)
        (tmp / "right" / "train.jsonl").write_text("new\n")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "pairs",
        "pairs/right",
        "pairs/right/train.jsonl",
    ]
    with pytest.raises(KeyError), atomic_path(out) as tmp:
        (tmp / "half").mkdir(parents=True)
        raise KeyError("fails halfway")
    assert (out / "right" / "train.jsonl").read_text() == "new\n" and not (out / "half").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["pairs"]
