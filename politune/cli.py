"""The `politune` command: helpers outside the DVC pipeline.

    politune check-params [params.yaml]
    politune compass --model models/base/smollm2-135m [--adapter models/adapters/smollm2-135m-left] \
        --instrument data/instruments/politune_v1.csv --out score.json
"""

from __future__ import annotations

import json
import sys

import click


@click.group()
def main() -> None:
    """PoliTune tools. The pipeline itself runs with `dvc repro` (see README)."""


@main.command("check-params")
@click.argument("path", default="params.yaml", type=click.Path(dir_okay=False))
def check_params(path: str) -> None:
    """Validate a params file and print every problem at once."""
    from politune.params import ParamsError, load_params

    try:
        p = load_params(path)
    except ParamsError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    click.echo(f"{path}: ok ({len(p.models)} model(s), {len(p.ideologies)} ideologies, {len(p.corpora)} corpora)")


@main.command()
@click.option("--model", "model_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="A base-model folder (e.g. models/base/smollm2-135m) with safetensors weights.")
@click.option("--adapter", default=None, type=click.Path(exists=True, file_okay=False),
              help="A LoRA adapter folder with its sha256 manifest (e.g. models/adapters/smollm2-135m-left).")
@click.option("--instrument", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV instrument: id,axis,text,strongly_disagree,disagree,agree,strongly_agree.")
@click.option("--mode", type=click.Choice(["logprob"]), default="logprob", show_default=True,
              help="Elicitation mode (generate and judge: issue 7).")
@click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32", show_default=True)
@click.option("--bootstrap", default=1000, show_default=True, help="Resamples of the items for the 95% interval.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the JSON result.")
def compass(model_dir: str, adapter: str | None, instrument: str, mode: str, dtype: str, bootstrap: int,
            out: str) -> None:
    """Score one model (and optionally an adapter) on a compass instrument."""
    from politune.compass.elicit import elicit_logprob
    from politune.compass.instrument import load_csv_instrument
    from politune.compass.score import per_item, score
    from politune.io import write_json
    from politune.llm.transformers_backend import TransformersBackend
    from politune.models import load_model, load_tokenizer

    inst = load_csv_instrument(instrument)
    model = load_model(model_dir, dtype, adapter=adapter)
    backend = TransformersBackend(model, load_tokenizer(model_dir), model_id=model_dir)
    probs = elicit_logprob(backend, inst)
    result = {"model": model_dir, "adapter": adapter, "instrument": inst.name, "mode": mode,
              **score(inst, probs, bootstrap), "items": per_item(inst, probs)}
    write_json(out, result)
    click.echo(json.dumps({k: v for k, v in result.items() if k != "items"}, indent=2))


if __name__ == "__main__":
    main()
