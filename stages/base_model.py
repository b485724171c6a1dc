"""Stage base_model: materialize one base model into models/base/<name> (safetensors).

python -m stages.base_model --model smollm2-135m
"""

from __future__ import annotations

import time

import click

from politune.io import atomic_path
from politune.models import materialize
from stages._common import PARAMS_OPTION, get_params, stage, write_metrics


@click.command()
@click.option("--model", "name", required=True, help="A key under `models` in params.yaml.")
@click.option("--out", default=None, help="Output folder (default models/base/<model>).")
@PARAMS_OPTION
@stage("base_model")
def main(name: str, out: str | None, params_path: str) -> None:
    t0 = time.time()
    p = get_params(params_path)
    if name not in p.models:
        raise ValueError(
            f"--model {name!r} is not a key of `models` in {params_path} (have: {', '.join(p.models)})"
        )
    out = out or f"models/base/{name}"
    with atomic_path(out) as tmp:
        manifest = materialize(p.models[name].source, tmp)
    write_metrics(f"metrics/base_model/{name}.json", {"model": name, **manifest}, t0)


if __name__ == "__main__":
    main()
