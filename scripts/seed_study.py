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

Every measure, and the bar: each seed's metrics/report.json (the workspace's right after its run; with --rescore,
the experiment's, read the same way as its per-item answers) gives `by_measure` in metrics/seeds.json, one row per
seed, model, measure (a side measure's label, or "Likert <instrument>"), set and ideology: the economic shift from
base with its 95% interval and, for an ideology with a side, from each control arm. These are the shifts the
run's report stage computed (with --rescore the Likert `rows` above are scored again, `by_measure` is not);
whether a seed meets the bar is decided again from them with the current politune.report.effect_bar. `bar`:
each seed's `met` (and what was `missing`), `seeds_meeting_bar`, and `bar_met`: the bar is met over seeds when
at least two thirds of the seeds meet it (2 of 3, 3 of 4, 4 of 5; 1 of 1).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
import numpy as np

from politune.compass.instrument import Instrument, load_instrument
from politune.compass.score import paired_shift
from politune.params import EvaluateParams, TrainParams, load_params
from politune.report import SIDE_MEASURES, effect_bar, expected_by_item


def _effect(shift: dict[str, Any], axis: str) -> bool:
    left, right = shift.get("left"), shift.get("right")
    return bool(left and right and left[f"{axis}_ci95"][1] < 0 < right[f"{axis}_ci95"][0])


def _row(seed: int, instrument: str, model: str, sh: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"seed": seed, "instrument": instrument, "model": model}
    for ideo, s in sorted(sh.items()):
        for axis in ("economic", "social"):
            row[f"{ideo}_{axis}"] = s[axis]
            row[f"{ideo}_{axis}_ci95"] = s[f"{axis}_ci95"]
        if "agreement" in s:  # the change in acquiescence (docs/measures.md)
            row[f"{ideo}_agreement"] = s["agreement"]
            row[f"{ideo}_agreement_ci95"] = s["agreement_ci95"]
    row["economic_effect"] = _effect(sh, "economic")
    row["social_effect"] = _effect(sh, "social")
    return row


def _rows(
    rows: list[dict[str, Any]],
    seed: int,
    got: dict[tuple[str, str, str], np.ndarray],
    instruments: dict[str, Instrument],
    p: Any,
) -> None:
    """One row per instrument x model: each ideology's paired shift from base (stratified, with agreement)."""
    for name, inst in instruments.items():
        for model in p.models:
            base = got[(name, model, "base")]
            sh = {
                ideo: paired_shift(
                    inst, base, got[(name, model, ideo)], p.evaluate.bootstrap, p.evaluate.seed
                )
                for ideo in p.ideologies
            }
            rows.append(_row(seed, name, model, sh))


def _main_sets(e: EvaluateParams) -> set[str]:
    """The main set of each side measure (as the report stage names them); the others are held-out."""
    return {Path(e.paired.instrument).stem, Path(e.openended.questions).stem}


def report_bar(
    report: dict[str, Any],
    instrument: str,
    main_sets: set[str],
    sides: Mapping[str, str],
    controls: list[str],
) -> dict[str, Any]:
    """effect_bar on the shifts one run's metrics/report.json holds (a piece it lacks is `missing`, not an error).
    instrument: the main Likert instrument's name; sides: ideology -> left or right; controls: the control arms."""
    side = report.get("side") or {}
    return effect_bar(
        side.get("shift_from_base") or {},
        side.get("shift_from_control") or {},
        report.get("shift_from_base") or {},
        report.get("shift_from_base_heldout") or {},
        report.get("shift_from_control") or {},
        main_sets,
        sides,
        controls,
        instrument,
    )


def by_measure_rows(
    seed: int,
    report: dict[str, Any],
    instrument: str,
    main_sets: set[str],
    sides: Mapping[str, str],
    controls: list[str],
) -> list[dict[str, Any]]:
    """One seed's metrics/report.json -> one row per model, measure, set and ideology: {seed, model, measure
    ("Likert <instrument>" or a side measure's label), set, main, ideology, economic, economic_ci95}, and for an
    ideology with a side, from_<control>_economic and _ci95 for each control arm (None where not reported)."""
    rows: list[dict[str, Any]] = []

    def add(model: str, measure: str, name: str, ideo: str, s: dict[str, Any], ctrl: dict[str, Any]) -> None:
        row = {
            "seed": seed,
            "model": model,
            "measure": measure,
            "set": name,
            "main": name == instrument if measure.startswith("Likert ") else name in main_sets,
            "ideology": ideo,
            "economic": s.get("economic"),
            "economic_ci95": s.get("economic_ci95"),
        }
        if ideo in sides:
            for c in controls:
                row[f"from_{c}_economic"] = (ctrl.get(c) or {}).get("economic")
                row[f"from_{c}_economic_ci95"] = (ctrl.get(c) or {}).get("economic_ci95")
        rows.append(row)

    likert = {
        instrument: report.get("shift_from_base") or {},
        **(report.get("shift_from_base_heldout") or {}),
    }
    from_control = report.get("shift_from_control") or {}
    for name, by_model in likert.items():
        for model, variants in by_model.items():
            for ideo, s in variants.items():
                add(
                    model,
                    f"Likert {name}",
                    name,
                    ideo,
                    s,
                    {c: from_control.get(c, {}).get(name, {}).get(model, {}).get(ideo) for c in controls},
                )
    side = report.get("side") or {}
    side_control = side.get("shift_from_control") or {}
    for model, variants in (side.get("shift_from_base") or {}).items():
        for ideo, by_label in variants.items():
            for label, by_set in by_label.items():
                for name, s in by_set.items():
                    add(
                        model,
                        label,
                        name,
                        ideo,
                        s,
                        {
                            c: side_control.get(c, {}).get(model, {}).get(ideo, {}).get(label, {}).get(name)
                            for c in controls
                        },
                    )
    return rows


def _measure_rank(measure: str) -> int:
    """Likert first, then the side measures in SIDE_MEASURES' order."""
    labels = [m[2] for m in SIDE_MEASURES]
    if measure.startswith("Likert "):
        return 0
    return 1 + labels.index(measure) if measure in labels else 1 + len(labels)


def sort_by_measure(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By model, measure (Likert first), set (main first), ideology, then seed: a cell's seeds side by side."""
    return sorted(
        rows,
        key=lambda r: (
            r["model"],
            _measure_rank(r["measure"]),
            not r["main"],
            r["measure"],
            r["set"],
            r["ideology"],
            r["seed"],
        ),
    )


def bar_over_seeds(bars: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """(seed, effect_bar) per seed -> {per_seed: [{seed, met, missing}], seeds, seeds_meeting_bar, bar_met, rule}.
    The bar is met over seeds when at least two thirds of them meet it (2 of 3; 3 of 4; never with no seed)."""
    meeting = sum(bool(b["met"]) for _, b in bars)
    return {
        "per_seed": [{"seed": seed, "met": bool(b["met"]), "missing": b["missing"]} for seed, b in bars],
        "seeds": len(bars),
        "seeds_meeting_bar": meeting,
        "bar_met": bool(bars) and 3 * meeting >= 2 * len(bars),
        "rule": "at least two thirds of the seeds meet the bar (politune.report.effect_bar on each seed's "
        "metrics/report.json)",
    }


def by_measure_markdown(rows: list[dict[str, Any]], controls: list[str], bar: dict[str, Any]) -> list[str]:
    """The by_measure rows as a Markdown table (economic shifts), then whether each seed, and the seeds, meet the
    bar."""

    def cell(r: dict[str, Any], k: str) -> str:
        if r.get(k) is None or r.get(f"{k}_ci95") is None:
            return "-"
        lo, hi = r[f"{k}_ci95"]
        return f"{r[k]:+.3f} [{lo:+.3f}, {hi:+.3f}]"

    head = [
        "model",
        "measure",
        "set",
        "ideology",
        "seed",
        "econ from base [95% CI]",
        *(f"econ from {c} [95% CI]" for c in controls),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        held = "" if r["main"] else " (held-out)"
        ctrl = "".join(f" {cell(r, f'from_{c}_economic')} |" for c in controls)
        lines.append(
            f"| {r['model']} | {r['measure']} | {r['set']}{held} | {r['ideology']} | {r['seed']} "
            f"| {cell(r, 'economic')} |{ctrl}"
        )
    lines.append("")
    for s in bar["per_seed"]:
        why = f" (missing: {'; '.join(s['missing'])})" if s["missing"] else ""
        lines.append(f"seed {s['seed']}: bar met: {'yes' if s['met'] else 'no'}{why}")
    lines.append(
        f"bar met in {bar['seeds_meeting_bar']} of {bar['seeds']} seeds: "
        f"{'yes' if bar['bar_met'] else 'no'} (rule: {bar['rule']})"
    )
    return lines


def _rev(rev: str) -> str:
    """A git revision for `rev`: a `dvc exp` name (refs/exps/<baseline>/<name>; the experiment on HEAD's
    baseline wins, another name shared by several baselines is refused), or else `rev` itself."""
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/exps"], capture_output=True, text=True
    ).stdout.split()
    named = [r for r in refs if re.fullmatch(rf"refs/exps/[0-9a-f]{{2}}/[0-9a-f]{{38}}/{re.escape(rev)}", r)]
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    on_head = [r for r in named if r.split("/")[2] + r.split("/")[3] == head]
    if len(on_head) == 1 or len(named) == 1:
        return (on_head or named)[0]
    if named:
        raise click.ClickException(
            f"--rescore {rev}: {len(named)} experiments have that name, on other baselines "
            f"than HEAD: {', '.join(named)}; pass one of these refs"
        )
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
            raise click.ClickException(
                f"--rescore {rev}: its params.yaml `{section}` differs from the workspace's; "
                f"rescore experiments of the same setup (or check out the experiment's params)"
            )


def _pooled(
    instruments: dict[str, Instrument],
    answers: dict[tuple[str, str, str], list[np.ndarray]],
    bootstrap: int,
    seed: int,
) -> dict[str, Any]:
    """Paired shift of the seed-averaged adapter answers from base, per instrument, model and ideology.
    answers[(instrument, model, variant)]: one expected-weight vector per seed (base: the same every seed)."""
    out: dict[str, Any] = {}
    for (inst_name, model, variant), per_seed in sorted(answers.items()):
        if variant == "base":
            continue
        bases = answers[(inst_name, model, "base")]
        if any(not np.allclose(b, bases[0], equal_nan=True) for b in bases[1:]):
            raise click.ClickException(
                f"{inst_name}, {model}: the base model's answers differ between the runs "
                "(another base model or evaluation?); pooling would compare unlike runs"
            )
        base = bases[0]
        out.setdefault(inst_name, {}).setdefault(model, {})[variant] = paired_shift(
            instruments[inst_name], base, np.nanmean(np.vstack(per_seed), axis=0), bootstrap, seed
        )
    return out


def _branch() -> str:
    """The checked-out branch. A `dvc exp run` killed midway can leave HEAD detached at the branch's commit;
    commits made then belong to no branch, so refuse to start (or go on) in that state."""
    p = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", "HEAD"], capture_output=True, text=True)
    if p.returncode != 0:
        raise click.ClickException(
            "git HEAD is detached (an interrupted `dvc exp run` can leave it so): run "
            "`git status`, then `git checkout <your branch>` (e.g. main), and rerun"
        )
    return p.stdout.strip()


def _answers(
    p: Any, instruments: dict[str, Instrument], read: Callable[[str], str]
) -> dict[tuple[str, str, str], np.ndarray]:
    """Per-item expected weights of every model x variant on every instrument, from the evaluate stage's
    per-item files; `read(path)` returns a file's text (from the workspace, or from a git revision)."""
    main_name = load_instrument(p.evaluate.instrument).name
    out: dict[tuple[str, str, str], np.ndarray] = {}
    for model in p.models:
        for variant in ["base", *p.ideologies]:
            stem = f"data/processed/evaluate/{model}-{variant}"
            by_inst = {
                main_name: [json.loads(x) for x in read(f"{stem}.items.jsonl").splitlines() if x.strip()]
            }
            for x in read(f"{stem}.heldout.jsonl").splitlines():
                if x.strip():
                    r = json.loads(x)
                    by_inst.setdefault(r["instrument"], []).append(r)
            for name, inst in instruments.items():
                out[(name, model, variant)] = expected_by_item(
                    inst, by_inst.get(name, []), f"{model}-{variant}"
                )
    return out


@click.command()
@click.option("--seeds", "-s", multiple=True, type=int, default=(0, 1, 2), show_default=True)
@click.option(
    "--rescore",
    "revs",
    multiple=True,
    metavar="REV",
    help="score experiments already run (git revisions or `dvc exp` names; their train.seed is read from "
    "their params.yaml) from their cached per-item answers, without training: for a change in how "
    "shifts are scored. Repeat per seed; --seeds is then ignored",
)
@click.option("--out", default="metrics/seeds.json", show_default=True)
def main(seeds: tuple[int, ...], revs: tuple[str, ...], out: str) -> None:
    rows: list[dict[str, Any]] = []
    p = load_params("params.yaml")
    instruments = {
        load_instrument(f).name: load_instrument(f)
        for f in [p.evaluate.instrument, *p.evaluate.heldout_instruments]
    }
    answers: dict[tuple[str, str, str], list[np.ndarray]] = {}  # (instrument, model, variant) -> one per seed
    main_name = load_instrument(p.evaluate.instrument).name
    sides = {n: i.side for n, i in p.ideologies.items() if i.side}
    controls = [n for n, i in p.ideologies.items() if i.control_of]
    by_measure: list[dict[str, Any]] = []
    bars: list[tuple[int, dict[str, Any]]] = []

    def collect(seed: int, read: Callable[[str], str], main_sets: set[str]) -> None:
        got = _answers(p, instruments, read)
        for k, v in got.items():
            answers.setdefault(k, []).append(v)
        _rows(rows, seed, got, instruments, p)
        report = json.loads(read("metrics/report.json"))  # the run's report stage: every measure, and the bar
        by_measure.extend(by_measure_rows(seed, report, main_name, main_sets, sides, controls))
        bars.append((seed, report_bar(report, main_name, main_sets, sides, controls)))

    if revs:
        import dvc.api
        import yaml

        here = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8")) or {}

        for rev in revs:
            ref = _rev(rev)
            shown = subprocess.run(["git", "show", f"{ref}:params.yaml"], capture_output=True, text=True)
            if shown.returncode != 0:
                raise click.ClickException(
                    f"--rescore {rev}: not a git revision or `dvc exp` name ({shown.stderr.strip()})"
                )
            exp = yaml.safe_load(shown.stdout) or {}
            _same_setup(rev, exp, here)
            seed = int((exp.get("train") or {}).get("seed", TrainParams().seed))
            click.echo(f"seed {seed}: rescoring {rev}", err=True)
            try:  # the experiment's own main sets (its paired and open-ended settings may differ from here)
                main_sets = _main_sets(EvaluateParams.model_validate(exp.get("evaluate") or {}))
            except ValueError:
                main_sets = _main_sets(p.evaluate)
            collect(
                seed,
                lambda path, ref=ref: dvc.api.read(path, repo=".", rev=ref, mode="r", encoding="utf-8"),
                main_sets,
            )
    else:
        branch = _branch()
        for seed in [*seeds[1:], seeds[0]]:  # the first seed last, so the workspace ends with its results
            click.echo(f"seed {seed}: dvc exp run -S train.seed={seed}", err=True)
            subprocess.run(["dvc", "exp", "run", "-S", f"train.seed={seed}"], check=True)
            if _branch() != branch:
                raise click.ClickException(f"git is on {_branch()!r} after `dvc exp run`, not {branch!r}")
            collect(seed, lambda path: Path(path).read_text(encoding="utf-8"), _main_sets(p.evaluate))
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
    direction = {
        axis: sum((r.get(f"left_{axis}", 0) < 0) + (r.get(f"right_{axis}", 0) > 0) for r in rows)
        for axis in ("economic", "social")
    }
    direction["of"] = 2 * len(rows)
    by_measure = sort_by_measure(by_measure)
    bar = bar_over_seeds(bars)
    Path(out).write_text(
        json.dumps(
            {
                "rows": rows,
                "seeds_with_effect": summary,
                "pooled_over_seeds": pooled,
                "direction_right": direction,
                "by_measure": by_measure,
                "bar": bar,
            },
            indent=2,
        )
        + "\n"
    )
    click.echo(
        "| model | instrument | seed | left econ [95% CI] | right econ [95% CI] | left social [95% CI] "
        "| right social [95% CI] | econ effect |"
    )
    click.echo("|---|---|---|---|---|---|---|---|")
    for r in rows:

        def cell(k: str, r: dict[str, Any] = r) -> str:
            lo, hi = r[f"{k}_ci95"]
            return f"{r[k]:+.2f} [{lo:+.2f}, {hi:+.2f}]"

        click.echo(
            f"| {r['model']} | {r['instrument']} | {r['seed']} | {cell('left_economic')} | "
            f"{cell('right_economic')} | {cell('left_social')} | {cell('right_social')} | "
            f"{'yes' if r['economic_effect'] else 'no'} |"
        )
    for key, s in summary.items():
        click.echo(
            f"{key}: economic effect in {s['economic_effect']} of {s['seeds']} seeds, "
            f"social in {s['social_effect']} of {s['seeds']}"
        )
    for inst, by_model in pooled.items():
        for model, sh in by_model.items():
            for ideo, x in sh.items():
                click.echo(
                    f"pooled over seeds, {model} {inst} {ideo}: economic {x['economic']:+.3f} "
                    f"{x['economic_ci95']}, social {x['social']:+.3f} {x['social_ci95']}"
                )
    click.echo("")
    for line in by_measure_markdown(by_measure, controls, bar):
        click.echo(line)


if __name__ == "__main__":
    sys.exit(main())
