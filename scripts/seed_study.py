"""The effect over training seeds: `dvc exp run -S train.seed=S` for each seed, then one table.

    python scripts/seed_study.py                 # seeds 0 1 2 -> metrics/seeds.json + a printed table
    python scripts/seed_study.py --seeds 0 1 2 3 4

Each seed retrains both adapters and re-evaluates them (about 12 minutes a seed on 2 cores), even a seed run
before: the train stage's curves are an uncached output, so DVC keeps no run cache for it. Training is
deterministic here (seed 1 trained twice gave identical shifts to 4 decimals). The workspace ends at the first seed's results (run
`dvc exp run -S train.seed=<yours>` to go back to another). Needs PATH to start with .venv/bin.

A seed "shows the effect" on an instrument when the left adapter's economic shift has a 95% interval below 0
and the right adapter's above 0 (paired item bootstrap, metrics/report.json). `pooled_over_seeds` averages
each item's expected answer weight over the seeds' adapters before the same paired bootstrap: the method's
effect with the seed-to-seed noise of training averaged out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from politune.compass.instrument import load_instrument
from politune.compass.score import paired_shift
from politune.params import load_params


def _effect(shift: dict[str, Any], axis: str) -> bool:
    left, right = shift.get("left"), shift.get("right")
    return bool(left and right and left[f"{axis}_ci95"][1] < 0 < right[f"{axis}_ci95"][0])


def _row(seed: int, instrument: str, model: str, sh: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"seed": seed, "instrument": instrument, "model": model}
    for ideo, s in sorted(sh.items()):
        for axis in ("economic", "social"):
            row[f"{ideo}_{axis}"] = s[axis]
            row[f"{ideo}_{axis}_ci95"] = s[f"{axis}_ci95"]
    row["economic_effect"] = _effect(sh, "economic")
    row["social_effect"] = _effect(sh, "social")
    return row


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ew(rows: list[dict[str, Any]], ids: list[str]) -> np.ndarray:
    by = {r["id"]: np.nan if r["expected_weight"] is None else r["expected_weight"] for r in rows}
    return np.array([by[i] for i in ids], dtype=float)


def _pooled(instruments: dict[str, Any], rows: dict[tuple[str, str, str], list[dict[str, Any]]], n_seeds: int,
            bootstrap: int, seed: int) -> dict[str, Any]:
    """Paired shift of the seed-averaged adapter answers from base, per instrument, model and ideology."""
    out: dict[str, Any] = {}
    for (inst_name, model, variant), items in rows.items():
        if variant == "base" or inst_name not in instruments:
            continue
        inst = instruments[inst_name]
        ids = [q.id for q in inst.propositions]

        base_rows = rows[(inst_name, model, "base")]
        base = _ew(base_rows[: len(ids)], ids)  # base is the same model for every seed
        per_seed = [_ew(items[k * len(ids):(k + 1) * len(ids)], ids) for k in range(len(items) // len(ids))]
        if len(per_seed) != n_seeds:
            raise ValueError(f"{inst_name} {model} {variant}: {len(per_seed)} seeds of answers, expected {n_seeds}")
        out.setdefault(inst_name, {}).setdefault(model, {})[variant] = paired_shift(
            inst, base, np.nanmean(np.vstack(per_seed), axis=0), bootstrap, seed)
    return out


@click.command()
@click.option("--seeds", "-s", multiple=True, type=int, default=(0, 1, 2), show_default=True)
@click.option("--out", default="metrics/seeds.json", show_default=True)
def main(seeds: tuple[int, ...], out: str) -> None:
    rows: list[dict[str, Any]] = []
    p = load_params("params.yaml")
    instruments = {load_instrument(f).name: load_instrument(f)
                   for f in [p.evaluate.instrument, *p.evaluate.heldout_instruments]}
    weights: dict[tuple[str, str, str], list[np.ndarray]] = {}  # (instrument, model, variant) -> per seed
    for seed in [*seeds[1:], seeds[0]]:  # the first seed last, so the workspace ends with its results
        click.echo(f"seed {seed}: dvc exp run -S train.seed={seed}", err=True)
        subprocess.run(["dvc", "exp", "run", "-S", f"train.seed={seed}"], check=True)
        report = json.loads(Path("metrics/report.json").read_text())
        main_name = Path(p.evaluate.instrument).stem
        for model in p.models:
            for variant in ["base", *p.ideologies]:
                for suffix in ("items", "heldout"):
                    for r in _read_jsonl(Path(f"data/processed/evaluate/{model}-{variant}.{suffix}.jsonl")):
                        r.setdefault("instrument", main_name)
                        weights.setdefault((r["instrument"], model, variant), []).append(r)
        for model, sh in report["shift_from_base"].items():
            rows.append(_row(seed, main_name, model, sh))
        for inst, by_model in report.get("shift_from_base_heldout", {}).items():
            for model, sh in by_model.items():
                rows.append(_row(seed, inst, model, sh))
    rows.sort(key=lambda r: (r["model"], r["instrument"], r["seed"]))
    summary: dict[str, Any] = {}
    for r in rows:
        key = f"{r['model']}/{r['instrument']}"
        s = summary.setdefault(key, {"seeds": 0, "economic_effect": 0, "social_effect": 0})
        s["seeds"] += 1
        s["economic_effect"] += r["economic_effect"]
        s["social_effect"] += r["social_effect"]
    pooled = _pooled(instruments, weights, len(seeds), p.evaluate.bootstrap, p.evaluate.seed)
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
