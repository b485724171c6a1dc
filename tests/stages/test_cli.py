"""The `politune` command outside the pipeline, on a tiny model and a CSV instrument written here."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from politune.cli import main


def test_compass_command_scores_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    inst = tmp_path / "inst.csv"
    inst.write_text("id,axis,text,strongly_disagree,disagree,agree,strongly_agree\n"
                    "e1,economic,Cut taxes now.,-2,-1,1,2\ns1,social,Obey the rules.,-2,-1,1,2\n")
    out = tmp_path / "score.json"
    res = CliRunner().invoke(main, ["compass", "--model", str(tiny_model_dir), "--instrument", str(inst),
                                    "--out", str(out), "--bootstrap", "50"])
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    assert -10 <= r["economic"] <= 10 and len(r["items"]) == 2
    assert abs(sum(r["items"][0]["probs"]) - 1) < 1e-5


def test_check_params_reports_problems(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("models: {}\nannotate: {model: x}\nbogus: 1\n")
    res = CliRunner().invoke(main, ["check-params", str(bad)])
    assert res.exit_code == 2
    assert "bogus: unknown key" in res.output and "models" in res.output
