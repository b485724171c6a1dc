"""The stage time table of the last run, from timings/ (each stage writes its wall time there, beside its metrics).

    python scripts/stage_times.py            # markdown table: stage, seconds, share of the total

The figures are those of the run that last wrote each file: after a partial `dvc repro` some rows are older.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from politune.numerics import cpu_description


def stage_name(path: Path, root: Path) -> str:
    """timings/train/m-left.json -> train@m-left; timings/evaluate/m-base.json -> evaluate_base@m."""
    rel = path.relative_to(root).with_suffix("")
    if len(rel.parts) == 1:
        return rel.parts[0]
    group, key = rel.parts[0], rel.parts[-1]
    if group == "evaluate" and key.endswith("-base"):
        return f"evaluate_base@{key.removesuffix('-base')}"
    return f"{group}@{key}"


ORDER = [
    "base_model",
    "ingest",
    "annotate",
    "select",
    "synthesize",
    "lean",
    "train",
    "evaluate_base",
    "evaluate",
    "report",
]


def rows(root: Path) -> list[tuple[str, float]]:
    out = []
    for f in root.rglob("*.json"):
        secs = json.loads(f.read_text()).get("wall_seconds")
        if secs is not None:
            out.append((stage_name(f, root), float(secs)))
    return sorted(
        out, key=lambda r: (ORDER.index(r[0].split("@")[0]) if r[0].split("@")[0] in ORDER else 99, r[0])
    )


@click.command()
@click.option(
    "--root", default="timings", show_default=True, type=click.Path(file_okay=False, path_type=Path)
)
def main(root: Path) -> None:
    found = rows(root)
    if not found:
        raise click.ClickException(f"no timings under {root}/: run `dvc repro` first")
    total = sum(s for _, s in found)
    click.echo(f"Stage wall times ({cpu_description()}), total {total / 60:.1f} min:\n")
    click.echo("| stage | seconds | share |\n|---|---|---|")
    for name, secs in found:
        click.echo(f"| `{name}` | {secs:,.0f} | {secs / total:.0%} |")
    click.echo(f"| **total** | **{total:,.0f}** | |")


if __name__ == "__main__":
    main()
