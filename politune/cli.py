"""The `politune` command: helpers outside the DVC pipeline.

    politune check-params [params.yaml]
    politune profile [cpu|paper]        # which profile params.yaml is / switch to one
    politune export --model models/base/smollm2-135m --adapter models/adapters/smollm2-135m-left --out exported/left
    politune compass --model models/base/smollm2-135m [--adapter models/adapters/smollm2-135m-left] \
        --instrument data/instruments/politune_v1.csv --out score.json
    politune compass ... --instrument data/instruments/paired_v1.csv --out paired.json       # which side: P(right)
    politune compass ... --instrument data/openended/questions_v1.csv --out answers.json     # open-ended lean
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click


class _OneLineErrors(click.Group):
    """Known failures (bad input files, bad values) print one line and exit 2; POLITUNE_DEBUG=1 shows the
    traceback. Anything else is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as e:
            e.show()
            sys.exit(2)
        except (ValueError, FileNotFoundError, KeyError, OSError) as e:
            if os.environ.get("POLITUNE_DEBUG"):
                raise
            msg = str(e).strip().replace("\n", " ") or type(e).__name__
            click.echo(f"error: {msg}", err=True)
            sys.exit(2)


@click.group(cls=_OneLineErrors)
def main() -> None:
    """PoliTune tools. The pipeline itself runs with `dvc repro` (see README)."""


@main.command("check-params")
@click.argument("path", default="params.yaml", type=click.Path(dir_okay=False))
def check_params(path: str) -> None:
    """Validate a params file (params.yaml or profiles/NAME.yaml) and print every problem at once."""
    from pathlib import Path

    from politune.params import ParamsError, load_params
    from politune.profiles import PROFILES

    root = Path(path).resolve().parent
    root = root.parent if root.name == PROFILES else root  # a profile's paths are relative to the repository
    try:
        p = load_params(path, root)
    except ParamsError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    click.echo(
        f"{path}: ok ({len(p.models)} model(s), {len(p.ideologies)} ideologies, {len(p.corpora)} corpora)"
    )


@main.command()
@click.argument("name", required=False)
@click.option("--force", is_flag=True, help="Overwrite params.yaml even if it holds edits no profile has.")
def profile(name: str | None, force: bool) -> None:
    """Switch params.yaml to the profile NAME (profiles/NAME.yaml), or say which profile it matches."""
    from politune import profiles
    from politune.params import ParamsError

    if name is None:
        match, diffs = profiles.current()
        click.echo(f"params.yaml is the {match!r} profile" if match else "params.yaml matches no profile:")
        for n, keys in diffs.items():
            if keys:
                click.echo(
                    f"  vs {n}: {len(keys)} key(s) differ: {', '.join(keys[:12])}{' ...' if len(keys) > 12 else ''}"
                )
        return
    try:
        target = profiles.apply(name, force=force)
    except (ValueError, ParamsError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    click.echo(f"{target}: now the {name!r} profile; run `dvc repro` (changed params rerun what they feed)")


@main.command()
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="The base-model folder the adapter was trained on (e.g. models/base/smollm2-135m).",
)
@click.option(
    "--adapter",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A LoRA adapter folder with its sha256 manifest (checked before merging).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the merged model.")
@click.option(
    "--dtype",
    type=click.Choice(["float32", "bfloat16", "float16"]),
    default="bfloat16",
    show_default=True,
    help="dtype of the saved weights (the merge itself runs in float32).",
)
def export(model_dir: str, adapter: str, out: str, dtype: str) -> None:
    """Merge an adapter into its base model: a plain safetensors checkpoint for serving (e.g. `vllm serve OUT`)."""
    from politune.models import export_merged

    path = export_merged(model_dir, adapter, out, dtype)
    click.echo(f"{path}: merged model ({dtype}, safetensors + tokenizer + manifest.sha256.json)")


@main.command()
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A base-model folder (e.g. models/base/smollm2-135m) with safetensors weights.",
)
@click.option(
    "--adapter",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="A LoRA adapter folder with its sha256 manifest (e.g. models/adapters/smollm2-135m-left).",
)
@click.option(
    "--instrument",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="CSV instrument (id,axis,text,strongly_disagree,disagree,agree,strongly_agree), or a .txt "
    "file with the Political Compass test's 62 propositions, one per line, in order.",
)
@click.option(
    "--mode",
    type=click.Choice(["logprob", "generate", "judge"]),
    default="logprob",
    show_default=True,
    help="logprob: answer-sentence probabilities; generate: integer 0-3 + explanation (the paper); "
    "judge: open answer classified by the base model without adapter.",
)
@click.option(
    "--template",
    "templates",
    multiple=True,
    default=["statement"],
    show_default=True,
    type=click.Choice(["statement", "opinion", "survey"]),
    help="Prompt template(s); repeat to pool several.",
)
@click.option(
    "--reverse/--no-reverse", default=False, show_default=True, help="Also ask with options reversed."
)
@click.option("--unforced", is_flag=True, help="Invite 'no opinion' and report the refusal share.")
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    type=int,
    default=[0],
    show_default=True,
    help="Sampling seed(s) for generate/judge; repeat for several.",
)
@click.option("--max-new-tokens", default=300, show_default=True, help="generate/judge: answer length.")
@click.option("--temperature", default=0.3, show_default=True, help="generate/judge: sampling temperature.")
@click.option(
    "--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32", show_default=True
)
@click.option(
    "--bootstrap", default=1000, show_default=True, help="Resamples of the items for the 95% interval."
)
@click.option(
    "--measure",
    type=click.Choice(["auto", "likert", "paired", "openended"]),
    default="auto",
    show_default=True,
    help="likert: agree/disagree with propositions; paired: a paired-statement CSV (id,axis,topic,left,"
    "right), P(right) by preference and A/B choice; openended: a question CSV (id,axis,topic,"
    "question), answers read by --classifier. auto: from the file's header.",
)
@click.option(
    "--classifier",
    default="models/lean/classifier.json",
    show_default=True,
    help="openended: the lean classifier (stage lean).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the JSON result.")
def compass(
    model_dir: str,
    adapter: str | None,
    instrument: str,
    mode: str,
    templates: tuple[str, ...],
    reverse: bool,
    unforced: bool,
    seeds: tuple[int, ...],
    max_new_tokens: int,
    temperature: float,
    dtype: str,
    bootstrap: int,
    measure: str,
    classifier: str,
    out: str,
) -> None:
    """Score one model (and optionally an adapter) on an instrument: Likert, paired statements or open questions."""
    from politune.compass.instrument import InstrumentError
    from politune.compass.paired import is_paired_file
    from politune.lean import is_question_file

    if measure == "auto":
        measure = (
            "paired"
            if is_paired_file(instrument)
            else "openended"
            if is_question_file(instrument)
            else "likert"
        )
    try:
        result = _score(
            model_dir,
            adapter,
            instrument,
            mode,
            templates,
            reverse,
            unforced,
            seeds,
            max_new_tokens,
            temperature,
            dtype,
            bootstrap,
            measure,
            classifier,
        )
    except (InstrumentError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from None
    from politune.io import write_json

    write_json(out, result)
    click.echo(
        json.dumps({k: v for k, v in result.items() if k not in ("variants", "items", "answers")}, indent=2)
    )


def _score(
    model_dir: str,
    adapter: str | None,
    instrument: str,
    mode: str,
    templates: tuple[str, ...],
    reverse: bool,
    unforced: bool,
    seeds: tuple[int, ...],
    max_new_tokens: int,
    temperature: float,
    dtype: str,
    bootstrap: int,
    measure: str,
    classifier: str,
) -> dict:
    from politune.compass.evaluate import evaluate_instrument
    from politune.compass.instrument import load_instrument
    from politune.llm.transformers_backend import TransformersBackend
    from politune.models import load_model, load_tokenizer
    from politune.params import EvaluateParams, GenerateParams

    head = {"model": model_dir, "adapter": adapter, "measure": measure}
    if measure == "paired":
        from politune.compass.paired import (
            CHOICE_TEMPLATES,
            PREFERENCE_WORDINGS,
            evaluate_paired,
            load_paired,
        )

        inst_p = load_paired(instrument)
        tok = load_tokenizer(model_dir)
        backend = TransformersBackend(load_model(model_dir, dtype, adapter=adapter), tok, model_id=model_dir)
        m, rows = evaluate_paired(
            backend,
            inst_p,
            ["preference", "choice"],
            list(PREFERENCE_WORDINGS),
            list(CHOICE_TEMPLATES),
            bootstrap,
            0,
        )
        return {**head, "instrument": inst_p.name, **m, "items": rows}
    if measure == "openended":
        from politune.lean import LeanClassifier, answer_questions, load_questions, score_answers

        clf = LeanClassifier.load(classifier)
        qs = load_questions(instrument)
        tok = load_tokenizer(model_dir)
        backend = TransformersBackend(load_model(model_dir, dtype, adapter=adapter), tok, model_id=model_dir)
        answers = answer_questions(backend, qs, max_new_tokens, temperature, 50, list(seeds))
        m, _ = score_answers(clf.predict_right, qs, answers, bootstrap, 0)
        return {**head, "questions": Path(instrument).stem, **m, "answers": answers}
    p = EvaluateParams.model_validate(
        {
            "instrument": instrument,
            "mode": mode,
            "templates": list(templates),
            "reverse_order": reverse,
            "forced": not unforced,
            "bootstrap": bootstrap,
            "generate": GenerateParams(
                temperature=temperature, max_new_tokens=max_new_tokens, seeds=list(seeds)
            ),
        }
    )
    inst = load_instrument(instrument)
    tok = load_tokenizer(model_dir)
    backend = TransformersBackend(load_model(model_dir, dtype, adapter=adapter), tok, model_id=model_dir)
    judge = (
        TransformersBackend(load_model(model_dir, dtype), tok, model_id="judge") if mode == "judge" else None
    )
    metrics, items = evaluate_instrument(p, backend, inst, judge)
    return {**head, "instrument": inst.name, "mode": mode, **metrics, "items": items}


if __name__ == "__main__":
    main()
