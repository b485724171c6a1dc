"""The `politune` command outside the pipeline, on a tiny model and a CSV instrument written here."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from politune.cli import main


def write_instrument(tmp_path: Path) -> Path:
    inst = tmp_path / "inst.csv"
    inst.write_text(
        "id,axis,text,strongly_disagree,disagree,agree,strongly_agree\n"
        "e1,economic,Cut taxes now.,-2,-1,1,2\ns1,social,Obey the rules.,-2,-1,1,2\n"
    )
    return inst


def test_compass_command_scores_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    inst = write_instrument(tmp_path)
    out = tmp_path / "score.json"
    res = CliRunner().invoke(
        main,
        [
            "compass",
            "--model",
            str(tiny_model_dir),
            "--instrument",
            str(inst),
            "--out",
            str(out),
            "--bootstrap",
            "50",
        ],
    )
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    assert -10 <= r["economic"] <= 10 and len(r["items"]) == 2
    assert r["invalid_share"] == 0.0 and list(r["variants"]) == ["statement"]
    assert -2 <= r["items"][0]["expected_weight"] <= 2


def test_compass_generate_counts_invalid_never_defaults(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A random tiny model writes gibberish: every unparseable answer is counted invalid, not scored."""
    inst = write_instrument(tmp_path)
    out = tmp_path / "gen.json"
    res = CliRunner().invoke(
        main,
        [
            "compass",
            "--model",
            str(tiny_model_dir),
            "--instrument",
            str(inst),
            "--out",
            str(out),
            "--mode",
            "generate",
            "--max-new-tokens",
            "8",
            "--template",
            "statement",
            "--template",
            "survey",
            "--reverse",
            "--bootstrap",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    assert len(r["variants"]) == 4  # 2 templates x 2 orders
    answered = sum(1 for it in r["items"] for v in it["variants"].values() if v["top_answer"] != "invalid")
    invalid = sum(1 for it in r["items"] for v in it["variants"].values() if v["top_answer"] == "invalid")
    assert answered + invalid == 8
    assert r["invalid_share"] == round(invalid / 8, 4)
    for it in r["items"]:
        for v in it["variants"].values():
            assert "answer" in v  # the raw generated text is kept for inspection


def test_compass_measure_from_header_paired_and_openended(tiny_model_dir: Path, tmp_path: Path) -> None:
    from politune.lean import LeanClassifier

    paired = tmp_path / "paired.csv"
    paired.write_text(
        "id,axis,topic,left,right\ne1,economic,taxes,Tax the rich more.,Cut the taxes now.\n"
        "s1,social,borders,Open the border.,Build the wall.\n"
    )
    out = tmp_path / "p.json"
    res = CliRunner().invoke(
        main,
        [
            "compass",
            "--model",
            str(tiny_model_dir),
            "--instrument",
            str(paired),
            "--out",
            str(out),
            "--bootstrap",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    assert r["measure"] == "paired" and 0 < r["preference"]["economic"] < 1 and 0 < r["choice"]["social"] < 1
    assert len(r["items"]) == 2 and set(r["items"][0]["choice_variants"]) >= {"closer", "closer-rev"}
    texts = [
        "tax the rich more",
        "unions for the workers",
        "tax the rich now",
        "unions for all workers",
        "cut taxes now",
        "build the wall now",
        "cut taxes more",
        "build the wall today",
    ]
    # groups pair a left and a right text, so every training fold holds both sides
    clf, _ = LeanClassifier.fit(
        texts, [0] * 4 + [1] * 4, [str(i % 4) for i in range(8)], c_grid=(1.0,), folds=2
    )
    clf.save(tmp_path / "clf.json")
    qs = tmp_path / "q.csv"
    qs.write_text("id,axis,topic,question\nq1,economic,taxes,Should taxes rise?\n")
    res = CliRunner().invoke(
        main,
        [
            "compass",
            "--model",
            str(tiny_model_dir),
            "--instrument",
            str(qs),
            "--classifier",
            str(tmp_path / "clf.json"),
            "--max-new-tokens",
            "6",
            "--seed",
            "1",
            "--out",
            str(out),
            "--bootstrap",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    assert r["measure"] == "openended" and len(r["answers"]) == 2 and "health" in r
    # a malformed file: one clear line naming file and row, no traceback
    bad = tmp_path / "bad.csv"
    bad.write_text("id,axis,topic,left,right\ne1,economy,taxes,Tax the rich more.,Cut the taxes now.\n")
    res = CliRunner().invoke(
        main, ["compass", "--model", str(tiny_model_dir), "--instrument", str(bad), "--out", str(out)]
    )
    assert res.exit_code == 2 and f"{bad}:2: axis 'economy'" in res.output and "Traceback" not in res.output


def test_check_params_reports_problems(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("models: {}\nannotate: {model: x}\nbogus: 1\n")
    res = CliRunner().invoke(main, ["check-params", str(bad)])
    assert res.exit_code == 2
    assert "bogus: unknown key" in res.output and "models" in res.output


def test_profile_switch_and_report(repo_copy: Path, monkeypatch) -> None:  # noqa: ANN001
    import shutil

    from politune.params import load_params

    shutil.copytree(Path(__file__).resolve().parents[2] / "profiles", repo_copy / "profiles")
    monkeypatch.chdir(repo_copy)
    run = CliRunner().invoke
    res = run(main, ["profile"])
    assert res.exit_code == 0 and "params.yaml is the 'cpu' profile" in res.output, res.output
    res = run(main, ["profile", "paper"])
    assert res.exit_code == 0, res.output
    p = load_params("params.yaml")
    assert set(p.models) == {"llama3-8b", "mistral-7b"} and p.train.grad_accum == 16 and p.train.epochs == 4
    params = Path("params.yaml")
    params.write_text(params.read_text().replace("beta: 0.1", "beta: 0.3"))  # a user's own edit
    res = run(main, ["profile", "cpu"])
    assert res.exit_code == 2 and "edits no profile holds (vs paper: train.beta)" in res.output, res.output
    assert "beta: 0.3" in params.read_text()  # nothing overwritten
    res = run(main, ["profile", "cpu", "--force"])
    assert res.exit_code == 0 and load_params("params.yaml").train.beta == 0.1
    res = run(main, ["profile", "gpu9"])
    assert res.exit_code == 2 and "no profile 'gpu9' (have: cpu, paper" in res.output
