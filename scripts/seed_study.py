"""The effect over training seeds: `dvc exp run -S train.seed=S` for each seed, then one table.

    python scripts/seed_study.py                 # seeds 0 1 2 -> metrics/seeds.json + a printed table
    python scripts/seed_study.py --seeds 0 1 2 3 4
    python scripts/seed_study.py --rescore spicy-ruin --rescore shyer-mast --rescore dicey-bark  # no training

Each new seed retrains both adapters and re-evaluates them (about 13 minutes a seed on 2 cores). A seed run
before is restored from DVC's run cache in seconds (every train output is cached). Training is
deterministic here (seed 1 trained twice gave identical shifts to 4 decimals). The workspace ends at the
first seed's results (run `dvc exp run -S train.seed=<yours>` to go back to another). Needs PATH to start with .venv/bin.

`--rescore` reads experiments already run (their per-item answers, from DVC's cache) and scores them again
with the current code: after a change in how shifts are scored, no seed is retrained.

A seed "shows the effect" on an instrument when the left adapter's economic shift has a 95% interval below 0
and the right adapter's above 0 (paired item bootstrap stratified by keying, as in metrics/report.json; each
row also carries the change in acquiescence, `<ideology>_agreement`). `pooled_over_seeds` averages
each item's expected answer weight over the seeds' adapters before the same paired bootstrap: the method's
effect with the seed-to-seed noise of training averaged out.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from politune.compass.instrument import Instrument, load_instrument
from politune.compass.score import paired_shift
from politune.params import TrainParams, load_params
from politune.report import expected_by_item


def _effect(shift: dict[str, Any], axis: str) -> bool:
    left, right = shift.get("left"), shift.get("right")
    return bool(left and right and left[f"{axis}_ci95"][1] < 0 < right[f"{axis}_ci95"][0])


def _row(seed: int, instrument: str, model: str, sh: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"seed": seed, "instrument": instrument, "model": model}
    for ideo, s in sorted(sh.items()):
        for axis in ("economic", "social"):
            row[f"{ideo}_{axis}"] = s[axis]
            row[f"{ideo}_{axis}_ci95"] = s[f"{axis}_ci95"]
        if "agreement" in s:  # the change in acquiescence (README "Results")
            row[f"{ideo}_agreement"] = s["agreement"]
            row[f"{ideo}_agreement_ci95"] = s["agreement_ci95"]
    row["economic_effect"] = _effect(sh, "economic")
    row["social_effect"] = _effect(sh, "social")
    return row


def _rows(rows: list[dict[str, Any]], seed: int, got: dict[tuple[str, str, str], np.ndarray],
          instruments: dict[str, Instrument], p: Any) -> None:
    """One row per instrument x model: each ideology's paired shift from base (stratified, with agreement)."""
    for name, inst in instruments.items():
        for model in p.models:
            base = got[(name, model, "base")]
            sh = {ideo: paired_shift(inst, base, got[(name, model, ideo)], p.evaluate.bootstrap, p.evaluate.seed)
                  for ideo in p.ideologies}
            rows.append(_row(seed, name, model, sh))


def _rev(rev: str) -> str:
    """A git revision for `rev`: a `dvc exp` name (refs/exps/<baseline>/<name>; the experiment on HEAD's
    baseline wins, another name shared by several baselines is refused), or else `rev` itself."""
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], capture_output=True,
                          text=True).stdout.split()
    named = [r for r in refs if re.fullmatch(rf"refs/exps/[0-9a-f]{{2}}/[0-9a-f]{{38}}/{re.escape(rev)}", r)]
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    on_head = [r for r in named if r.split("/")[2] + r.split("/")[3] == head]
    if len(on_head) == 1 or len(named) == 1:
        return (on_head or named)[0]
    if named:
        raise click.ClickException(f"--rescore {rev}: {len(named)} experiments have that name, on other baselines "
                                   f"than HEAD: {', '.join(named)}; pass one of these refs")
    return rev


def _same_setup(rev: str, exp: dict[str, Any], here: dict[str, Any]) -> None:
    """Refuse to rescore an experiment whose Likert evaluation, models or ideologies differ from the workspace's
    params.yaml: its per-item files would be read against the wrong instruments or names. Settings of the other
    measures (paired, open-ended, neutral text, qualitative prompts) do not matter: only Likert answers are
    rescored."""
    other = {"measures", "paired", "openended", "neutral_text", "qualitative", "qualitative_max_new_tokens"}
    likert = lambda ev: {k: v for k, v in (ev or {}).items() if k not in other}  # noqa: E731
    for section in ("evaluate", "models", "ideologies"):
        mine, theirs = exp.get(section), here.get(section)
        if section == "evaluate":
            mine, theirs = likert(mine), likert(theirs)
        if mine != theirs:
            raise click.ClickException(f"--rescore {rev}: its params.yaml `{section}` differs from the workspace's; "
                                       f"rescore experiments of the same setup (or check out the experiment's params)")


def _pooled(instruments: dict[str, Instrument], answers: dict[tuple[str, str, str], list[np.ndarray]],
            bootstrap: int, seed: int) -> dict[str, Any]:
    """Paired shift of the seed-averaged adapter answers from base, per instrument, model and ideology.
    answers[(instrument, model, variant)]: one expected-weight vector per seed (base: the same every seed)."""
    out: dict[str, Any] = {}
    for (inst_name, model, variant), per_seed in sorted(answers.items()):
        if variant == "base":
            continue
        bases = answers[(inst_name, model, "base")]
        if any(not np.allclose(b, bases[0], equal_nan=True) for b in bases[1:]):
            raise click.ClickException(f"{inst_name}, {model}: the base model's answers differ between the runs "
                                       "(another base model or evaluation?); pooling would compare unlike runs")
        base = bases[0]
        out.setdefault(inst_name, {}).setdefault(model, {})[variant] = paired_shift(
            instruments[inst_name], base, np.nanmean(np.vstack(per_seed), axis=0), bootstrap, seed)
    return out


def _branch() -> str:
    """The checked-out branch. A `dvc exp run` killed midway can leave HEAD detached at the branch's commit;
    commits made then belong to no branch, so refuse to start (or go on) in that state."""
    p = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", "HEAD"], capture_output=True, text=True)
    if p.returncode != 0:
        raise click.ClickException("git HEAD is detached (an interrupted `dvc exp run` can leave it so): run "
                                   "`git status`, then `git checkout <your branch>` (e.g. main), and rerun")
    return p.stdout.strip()


def _answers(p: Any, instruments: dict[str, Instrument], read: Callable[[str], str]
             ) -> dict[tuple[str, str, str], np.ndarray]:
    """Per-item expected weights of every model x variant on every instrument, from the evaluate stage's
    per-item files; `read(path)` returns a file's text (from the workspace, or from a git revision)."""
    main_name = load_instrument(p.evaluate.instrument).name
    out: dict[tuple[str, str, str], np.ndarray] = {}
    for model in p.models:
        for variant in ["base", *p.ideologies]:
            stem = f"data/processed/evaluate/{model}-{variant}"
            by_inst = {main_name: [json.loads(x) for x in read(f"{stem}.items.jsonl").splitlines() if x.strip()]}
            for x in read(f"{stem}.heldout.jsonl").splitlines():
                if x.strip():
                    r = json.loads(x)
                    by_inst.setdefault(r["instrument"], []).append(r)
            for name, inst in instruments.items():
                out[(name, model, variant)] = expected_by_item(inst, by_inst.get(name, []), f"{model}-{variant}")
    return out


@click.command()
@click.option("--seeds", "-s", multiple=True, type=int, default=(0, 1, 2), show_default=True)
@click.option("--rescore", "revs", multiple=True, metavar="REV",
              help="score experiments already run (git revisions or `dvc exp` names; their train.seed is read from "
                   "their params.yaml) from their cached per-item answers, without training: for a change in how "
                   "shifts are scored. Repeat per seed; --seeds is then ignored")
@click.option("--out", default="metrics/seeds.json", show_default=True)
def main(seeds: tuple[int, ...], revs: tuple[str, ...], out: str) -> None:
    rows: list[dict[str, Any]] = []
    p = load_params("params.yaml")
    instruments = {load_instrument(f).name: load_instrument(f)
                   for f in [p.evaluate.instrument, *p.evaluate.heldout_instruments]}
    answers: dict[tuple[str, str, str], list[np.ndarray]] = {}  # (instrument, model, variant) -> one per seed

    def collect(seed: int, read: Callable[[str], str]) -> None:
        got = _answers(p, instruments, read)
        for k, v in got.items():
            answers.setdefault(k, []).append(v)
        _rows(rows, seed, got, instruments, p)

    if revs:
        import dvc.api
        import yaml

        here = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8")) or {}

        for rev in revs:
            ref = _rev(rev)
            shown = subprocess.run(["git", "show", f"{ref}:params.yaml"], capture_output=True, text=True)
            if shown.returncode != 0:
                raise click.ClickException(f"--rescore {rev}: not a git revision or `dvc exp` name ({shown.stderr.strip()})")
            exp = yaml.safe_load(shown.stdout) or {}
            _same_setup(rev, exp, here)
            seed = int((exp.get("train") or {}).get("seed", TrainParams().seed))
            click.echo(f"seed {seed}: rescoring {rev}", err=True)
            collect(seed, lambda path, ref=ref: dvc.api.read(path, repo=".", rev=ref, mode="r", encoding="utf-8"))
    else:
        branch = _branch()
        for seed in [*seeds[1:], seeds[0]]:  # the first seed last, so the workspace ends with its results
            click.echo(f"seed {seed}: dvc exp run -S train.seed={seed}", err=True)
            subprocess.run(["dvc", "exp", "run", "-S", f"train.seed={seed}"], check=True)
            if _branch() != branch:
                raise click.ClickException(f"git is on {_branch()!r} after `dvc exp run`, not {branch!r}")
            collect(seed, lambda path: Path(path).read_text(encoding="utf-8"))
    rows.sort(key=lambda r: (r["model"], r["instrument"], r["seed"]))
    summary: dict[str, Any] = {}
    for r in rows:
        key = f"{r['model']}/{r['instrument']}"
        s = summary.setdefault(key, {"seeds": 0, "economic_effect": 0, "social_effect": 0})
        s["seeds"] += 1
        s["economic_effect"] += r["economic_effect"]
        s["social_effect"] += r["social_effect"]
    pooled = _pooled(instruments, answers, p.evaluate.bootstrap, p.evaluate.seed)
    # how many (seed, instrument, ideology) shifts point the intended way: left < 0 < right
    direction = {axis: sum((r.get(f"left_{axis}", 0) < 0) + (r.get(f"right_{axis}", 0) > 0) for r in rows)
                 for axis in ("economic", "social")}
    direction["of"] = 2 * len(rows)
    Path(out).write_text(json.dumps({"rows": rows, "seeds_with_effect": summary, "pooled_over_seeds": pooled,
                                     "direction_right": direction}, indent=2) + "\n")
    click.echo("| model | instrument | seed | left econ [95% CI] | right econ [95% CI] | left social [95% CI] "
               "| right social [95% CI] | econ effect |")
    click.echo("|---|---|---|---|---|---|---|---|")
    for r in rows:
        def cell(k: str, r: dict[str, Any] = r) -> str:
            lo, hi = r[f"{k}_ci95"]
            return f"{r[k]:+.2f} [{lo:+.2f}, {hi:+.2f}]"
        click.echo(f"| {r['model']} | {r['instrument']} | {r['seed']} | {cell('left_economic')} | "
                   f"{cell('right_economic')} | {cell('left_social')} | {cell('right_social')} | "
                   f"{'yes' if r['economic_effect'] else 'no'} |")
    for key, s in summary.items():
        click.echo(f"{key}: economic effect in {s['economic_effect']} of {s['seeds']} seeds, "
                   f"social in {s['social_effect']} of {s['seeds']}")
    for inst, by_model in pooled.items():
        for model, sh in by_model.items():
            for ideo, x in sh.items():
                click.echo(f"pooled over seeds, {model} {inst} {ideo}: economic {x['economic']:+.3f} "
                           f"{x['economic_ci95']}, social {x['social']:+.3f} {x['social_ci95']}")


if __name__ == "__main__":
    sys.exit(main())
