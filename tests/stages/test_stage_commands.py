"""Stage commands (click), run in a temporary copy of the repository's params and data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from stages import ingest as ingest_stage
from stages import select as select_stage


def test_bad_params_stop_with_one_message(repo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo_copy)
    raw = yaml.safe_load(Path("params.yaml").read_text())
    raw["ingest"]["min_chars"] = "thirty"
    raw["ingest"]["max_chars_typo"] = 5
    raw["corpora"]["sotu"]["source"] = "missing"
    Path("params.yaml").write_text(yaml.safe_dump(raw))
    res = CliRunner().invoke(ingest_stage.main, [])
    assert res.exit_code == 2
    assert "ingest.min_chars" in res.output and "ingest.max_chars_typo: unknown key" in res.output
    assert not Path("data/interim/posts.jsonl").exists()


def test_ingest_stage_accounts_for_every_row(repo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo_copy)
    res = CliRunner().invoke(ingest_stage.main, [])
    assert res.exit_code == 0, res.output
    m = json.loads(Path("metrics/ingest.json").read_text())
    rejected = {k: v for k, v in m.items() if k.startswith("rejected.")}
    assert m["rows_in"] == m["kept"] + sum(rejected.values())
    posts = Path("data/interim/posts.jsonl").read_text().splitlines()
    assert len(posts) == m["kept"]
    q = sorted(Path("data/quarantine/ingest").glob("*.jsonl"))
    found = {f.stem.split("_", 1)[1]: len(f.read_text().splitlines()) for f in q}
    assert found == {k.split(".", 1)[1]: v for k, v in rejected.items()}
    assert m["kept_per_side"]["left"] > 100 and m["kept_per_side"]["right"] > 100


@pytest.mark.faults
def test_select_nothing_kept_names_threshold(
    repo_copy: Path, monkeypatch: pytest.MonkeyPatch, fault_record
) -> None:  # noqa: ANN001
    monkeypatch.chdir(repo_copy)
    Path("data/interim").mkdir(parents=True)
    posts = [{"post_id": f"p{i}", "side": s, "text": "x"} for i, s in enumerate(["left", "right"])]
    ann = [{"post_id": p["post_id"], "relevance": 0.1, "leaning": 0.0} for p in posts]
    Path("data/interim/posts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in posts))
    Path("data/interim/annotations.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ann))
    res = CliRunner().invoke(select_stage.main, [])
    assert res.exit_code == 1
    assert "select.min_relevance" in res.output and "kept no left posts" in res.output
    assert not Path("data/processed/selected.jsonl").exists()
    fault_record(
        "Every annotated post below the thresholds",
        "annotations all at relevance 0.1",
        "select exits 1 naming select.min_relevance and the side left empty; nothing reaches the trainer",
        message=res.output.strip().splitlines()[-1].removeprefix("error in stage select: ")[:140],
    )


def test_select_accounts_for_quarantined_annotations(
    repo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_copy)
    Path("data/interim").mkdir(parents=True)
    Path("data/quarantine/annotate").mkdir(parents=True)
    posts = [
        {"post_id": f"p{i}", "side": s, "text": f"post {i}"} for i, s in enumerate(["left", "right", "left"])
    ]
    ann = [{"post_id": p["post_id"], "relevance": 0.99, "leaning": 0.0} for p in posts[:2]]
    Path("data/interim/posts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in posts))
    Path("data/interim/annotations.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ann))
    Path("data/interim/gold_annotations.jsonl").write_text("")
    bad = {"post_id": "p2", "text": "post 2", "reason": "invalid_json", "error": "invalid_json"}
    Path("data/quarantine/annotate/invalid.jsonl").write_text(json.dumps(bad) + "\n")
    res = CliRunner().invoke(select_stage.main, [])
    assert res.exit_code == 0, res.output
    assert len(Path("data/processed/selected.jsonl").read_text().splitlines()) == 2
    Path("data/quarantine/annotate/invalid.jsonl").write_text("")  # now one post is simply missing
    res = CliRunner().invoke(select_stage.main, [])
    assert res.exit_code == 1 and "quarantined (0) do not match posts (3)" in res.output


def test_report_stage_gives_shifts_from_the_control_arm(
    repo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a control arm among the ideologies, report.json and the summary give every sided adapter's shift
    from the control too, on the main and the held-out instrument."""
    import numpy as np

    from politune.compass.instrument import load_instrument
    from politune.compass.score import per_item, score
    from stages import report as report_stage

    monkeypatch.chdir(repo_copy)
    raw = yaml.safe_load(Path("params.yaml").read_text())
    raw["ideologies"]["shuffled"] = {"control_of": "left", "description": "control"}
    raw["evaluate"]["measures"] = ["likert", "paired"]  # the open-ended answers: tests/unit/test_report.py
    Path("params.yaml").write_text(yaml.safe_dump(raw))
    from politune.compass.paired import load_paired

    pairs = load_paired(raw["evaluate"]["paired"]["instrument"]).pairs
    main = load_instrument(raw["evaluate"]["instrument"])
    held = load_instrument(raw["evaluate"]["heldout_instruments"][0])
    rng = np.random.default_rng(0)
    Path("metrics/evaluate").mkdir(parents=True)
    Path("data/processed/evaluate").mkdir(parents=True)
    for v in ("base", "left", "right", "shuffled"):
        probs = {i.name: rng.dirichlet(np.ones(4), size=len(i.propositions)) for i in (main, held)}
        Path(f"metrics/evaluate/smollm2-135m-{v}.json").write_text(
            json.dumps(score(main, probs[main.name], 50))
        )
        Path(f"data/processed/evaluate/smollm2-135m-{v}.items.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in per_item(main, probs[main.name]))
        )
        Path(f"data/processed/evaluate/smollm2-135m-{v}.heldout.jsonl").write_text(
            "".join(
                json.dumps({**r, "instrument": held.name}) + "\n" for r in per_item(held, probs[held.name])
            )
        )
        Path(f"data/processed/evaluate/smollm2-135m-{v}.paired.jsonl").write_text(
            "".join(
                json.dumps(
                    {
                        "instrument": "paired_v1",
                        "id": x.id,
                        "axis": x.axis,
                        "topic": x.topic,
                        "preference": float(rng.uniform()),
                        "choice": 0.5,
                    }
                )
                + "\n"
                for x in pairs
            )
        )
        shift = {"base": 0.0, "left": 0.1, "right": 0.0, "shuffled": -0.1}[v]  # nats per token vs base
        Path(f"data/processed/evaluate/smollm2-135m-{v}.neutral.jsonl").write_text(
            "".join(
                json.dumps({"id": f"n{i}", "nll": 3.0 + i / 10 + shift, "tokens": 90 + i}) + "\n"
                for i in range(6)
            )
        )
    res = CliRunner().invoke(report_stage.main, [])
    assert res.exit_code == 0, res.output
    rep = json.loads(Path("metrics/report.json").read_text())
    ctl = rep["shift_from_control"]["shuffled"]
    assert set(ctl) == {main.name, held.name}
    assert set(ctl[main.name]["smollm2-135m"]) == {"left", "right"}
    assert set(rep["shift_from_base"]["smollm2-135m"]) == {"left", "right", "shuffled"}
    assert "## Shift from the control arm" in Path("reports/summary.md").read_text()
    side = rep["side"]["shift_from_control"]["shuffled"]["smollm2-135m"]
    assert set(side) == {"left", "right"} and "paired_v1" in side["left"]["paired statements, preference"]
    assert "Shift from the control arm `shuffled`" in Path("reports/summary.md").read_text()
    cost = rep["neutral_perplexity_ratio"]["smollm2-135m"]  # the cost of each adapter, control included
    assert cost["right"]["ratio"] == 1.0 and cost["left"]["ratio"] == pytest.approx(np.exp(0.1), abs=1e-3)
    assert cost["shuffled"]["ratio"] == pytest.approx(np.exp(-0.1), abs=1e-3)
