"""One run that proves the GPU path: the real DVC pipeline, shrunk, on one CUDA GPU, with a JSON report.

    python scripts/gpu_check.py --out gpu_check.json          # on a CUDA machine: bfloat16, vLLM annotator
    python scripts/gpu_check.py --out cpu_dry_run.json        # the same on CPU (float32; vLLM skipped, said why)

In a temporary copy of the repository (its git-tracked and untracked-not-ignored files, as the end-to-end tests
copy it) it runs `dvc repro` on the embedded model with the default shrunk by `politune.profiles.SMOKE` and one
adapter (ideology `left`): base_model, ingest, annotate, select, synthesize, lean, train, evaluate_base, evaluate,
report. On a CUDA GPU the annotator is the `vllm` backend (structured JSON output, `annotate.vllm`) when vLLM is
installed, training is a bfloat16 LoRA + DPO run on the GPU, and base and adapter are scored on the GPU. Nothing
is downloaded: the model and corpora are the packaged ones, so the machine needs no hub access.

The report (JSON) says what ran and where: device, versions, each stage's wall time (from timings/), the dtype
and device each step used, peak GPU memory (sampled with nvidia-smi every 0.5 s, all processes), the annotator's
backend and its counts, the training loss and held-out reward accuracy, base and adapter coordinates, and the
tail of the log if a stage failed. Budget: under 8 minutes on one H200 (vLLM's engine start is most of it).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import click
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from repo_copy import copy_repository  # noqa: E402  (scripts/, this file's folder)
from stage_times import rows as stage_rows  # noqa: E402

from politune.profiles import SMOKE, override  # noqa: E402

MODEL = "smollm2-135m"


def environment() -> dict[str, Any]:
    import torch

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "cpu": platform.processor() or platform.machine(),
    }
    if torch.cuda.is_available():
        env |= {
            "gpu": torch.cuda.get_device_name(0),
            "gpu_count": torch.cuda.device_count(),
            "cuda": torch.version.cuda,
            "bf16_supported": torch.cuda.is_bf16_supported(),
        }
    try:
        import vllm  # noqa: F401

        env["vllm"] = vllm.__version__
    except Exception as e:  # not installed, or a broken install: say which
        env["vllm"] = None
        env["vllm_missing_because"] = f"{type(e).__name__}: {e}"
    return env


def check_params(env: dict[str, Any]) -> tuple[dict[str, object], list[str]]:
    """The shrunk default, one adapter; the annotator on vLLM where it can run. Returns (changes, notes)."""
    changes: dict[str, object] = dict(SMOKE)
    notes = []
    gpu = bool(env["cuda_available"])
    if gpu and env.get("vllm"):
        changes |= {
            "annotate.backend": "vllm",
            "annotate.vllm.max_model_len": 1024,
            "annotate.vllm.gpu_memory_utilization": 0.3,  # the engine shares the GPU with nothing, but start fast
        }
    else:
        notes.append(
            "annotate on the transformers backend: "
            + ("no CUDA GPU" if not gpu else f"vLLM not importable ({env.get('vllm_missing_because')})")
        )
    if not gpu:
        notes.append("no CUDA GPU: a CPU dry run (float32 or the CPU's native bfloat16), not a GPU check")
    return changes, notes


class GpuMemory:
    """Peak of `nvidia-smi`'s memory.used over the run, every process on the GPU counted (vLLM's engine runs in
    its own process, so torch's own counters would miss it)."""

    def __init__(self) -> None:
        self.peak_mib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> GpuMemory:
        if shutil.which("nvidia-smi"):
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                capture_output=True,
                text=True,
            )
            if out.returncode == 0 and out.stdout.strip():
                self.peak_mib = max(self.peak_mib, max(int(v) for v in out.stdout.split()))
                self.samples += 1
            self._stop.wait(0.5)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


def read(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def summarize(root: Path) -> dict[str, Any]:
    """What each step did, from the run's own metrics and timings files."""
    m, t = root / "metrics", root / "timings"
    out: dict[str, Any] = {"stage_seconds": dict(stage_rows(t)) if t.exists() else {}}
    ann = read(m / "annotate.json") or {}
    out["annotate"] = {
        k: ann.get(k)
        for k in ("backend", "annotator", "posts", "rows_computed", "quarantined", "posts_per_second")
    }
    tr = read(m / "train" / f"{MODEL}-left.json") or {}
    out["train"] = {
        k: tr.get(k)
        for k in ("dtype", "device", "steps", "final_train_loss", "eval_rewards_accuracies", "health")
    }
    for variant in ("base", "left"):
        ev = read(m / "evaluate" / f"{MODEL}-{variant}.json") or {}
        out[f"evaluate_{variant}"] = {k: ev.get(k) for k in ("dtype", "device", "economic", "social")}
    rep = read(m / "report.json") or {}
    out["shift_from_base"] = ((rep.get("shift_from_base") or {}).get(MODEL) or {}).get("left")
    return out


@click.command()
@click.option("--out", default="gpu_check.json", show_default=True, type=click.Path(dir_okay=False))
@click.option("--keep", is_flag=True, help="Keep the temporary copy (its path is in the report).")
@click.option("--timeout", default=1800, show_default=True, help="Seconds before `dvc repro` is stopped.")
def main(out: str, keep: bool, timeout: int) -> None:
    t0 = time.time()
    env = environment()
    changes, notes = check_params(env)
    work = Path(tempfile.mkdtemp(prefix="politune-gpu-check-"))
    root = copy_repository(work / "politune")
    params = override(yaml.safe_load((root / "params.yaml").read_text()), changes)
    left = params["ideologies"]["left"]
    params["ideologies"] = {"left": left}  # one adapter: base and adapter are what the check compares
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    click.echo(
        f"gpu_check: {'CUDA ' + env.get('gpu', '') if env['cuda_available'] else 'CPU dry run'}; in {root}"
    )
    for n in notes:
        click.echo(f"gpu_check: {n}")
    path_env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    with GpuMemory() as mem:
        t1 = time.time()
        try:
            p = subprocess.run(
                ["dvc", "repro"], cwd=root, env=path_env, capture_output=True, text=True, timeout=timeout
            )
            rc, log = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            rc, log = 124, f"dvc repro stopped after {timeout} s\n" + str(e.stdout or "")[-4000:]
        repro_s = time.time() - t1
    report: dict[str, Any] = {
        "ok": rc == 0,
        "returncode": rc,
        "environment": env,
        "notes": notes,
        "params_changed": {k: v for k, v in changes.items() if k not in SMOKE} | {"ideologies": ["left"]},
        "dvc_repro_seconds": round(repro_s, 1),
        "total_seconds": round(time.time() - t0, 1),
        "peak_gpu_memory_mib": mem.peak_mib if mem.samples else None,
        **summarize(root),
    }
    if rc != 0:
        report["log_tail"] = log[-6000:]
    if keep:
        report["workdir"] = str(root)
    else:
        shutil.rmtree(work, ignore_errors=True)
    Path(out).write_text(json.dumps(report, indent=2, default=str) + "\n")
    click.echo(json.dumps({k: report[k] for k in ("ok", "dvc_repro_seconds", "peak_gpu_memory_mib")}))
    click.echo(f"gpu_check: report in {out}")
    sys.exit(0 if rc == 0 else 1)


if __name__ == "__main__":
    main()
