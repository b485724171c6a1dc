"""params.yaml validation: one message naming every bad key, before any work starts."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from politune.params import ParamsError, load_params, parse_params


def raw(repo_copy: Path) -> dict:
    return yaml.safe_load((repo_copy / "params.yaml").read_text())


def test_shipped_params_load(repo_copy: Path) -> None:
    p = load_params(repo_copy / "params.yaml")
    assert "smollm2-135m" in p.models
    assert (
        set(p.ideologies) == {"left", "right", "shuffled"} and p.ideologies["shuffled"].control_of == "left"
    )
    assert p.train.beta == 0.1


@pytest.mark.faults
def test_every_problem_reported_at_once(repo_copy: Path, fault_record) -> None:  # noqa: ANN001
    r = copy.deepcopy(raw(repo_copy))
    r["train"]["lerning_rate"] = 1e-4  # unknown key (typo)
    r["train"]["beta"] = -1  # out of range
    r["train"]["epochs"] = "two"  # wrong type
    r["train"]["loss_type"] = "sigmod"  # bad loss type
    r["select"]["min_relevance"] = -0.5  # negative threshold
    r["ideologies"]["centre"] = {"side": "centre", "description": "the middle"}  # unknown ideology side
    r["corpora"]["sotu"]["source"] = "nope"  # unknown packaged corpus: a file-system check, reported later
    with pytest.raises(ParamsError) as e:
        parse_params(r, "params.yaml", repo_copy)
    msg = str(e.value)
    assert "train.lerning_rate: unknown key" in msg
    assert "train.beta" in msg and "train.epochs" in msg and "select.min_relevance" in msg
    assert "train.loss_type" in msg and "ideologies.centre.side" in msg
    assert msg.startswith("params.yaml: 6 problem(s)"), msg
    fault_record(
        "Invalid params",
        "six bad values at once: a typo'd key, beta -1, epochs 'two', loss type "
        "'sigmod', min_relevance -0.5, an ideology with side 'centre'",
        "one message listing all six, each by its dotted name, before any stage does work",
        problems_reported=msg.count("\n  - "),
    )
    # file-system checks run only once the types are right; fix types and the path problem shows
    r2 = copy.deepcopy(raw(repo_copy))
    r2["corpora"]["extra"] = {"format": "truthsocial", "path": "data/raw/nope.tsv", "side": "right"}
    r2["annotate"]["model"] = "llama-70b"
    with pytest.raises(ParamsError) as e2:
        parse_params(r2, "params.yaml", repo_copy)
    assert "corpora.extra.path: 'data/raw/nope.tsv' does not exist" in str(e2.value)
    assert "annotate.model: 'llama-70b' is not a key of `models`" in str(e2.value)


def test_bad_loss_type_and_cross_field(repo_copy: Path) -> None:
    r = copy.deepcopy(raw(repo_copy))
    r["train"]["loss_type"] = "sigmod"
    with pytest.raises(ParamsError, match="train.loss_type"):
        parse_params(r, "params.yaml", repo_copy)
    r = copy.deepcopy(raw(repo_copy))
    r["train"]["lora_r"] = 64
    r["train"]["lora_alpha"] = 4
    with pytest.raises(ParamsError, match=r"train.lora_alpha \(4\) with train.lora_r \(64\)"):
        parse_params(r, "params.yaml", repo_copy)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"label_smoothing": 0.1},
            "train.label_smoothing (0.1) with train.loss_type ('sigmoid'): trl ignores",
        ),
        ({"loss_type": "robust"}, "train.loss_type ('robust') with train.label_smoothing (0.0)"),
        ({"loss_type": "exo_pair"}, "train.loss_type ('exo_pair') with train.label_smoothing (0.0)"),
        ({"warmup": 2.5}, "train.warmup (2.5): values >= 1 are a number of steps and must be whole"),
        ({"lora_targets": ["q_proj", "lm_head"]}, "train.lora_targets includes 'lm_head'"),
        ({"prompt_format": "vicuna"}, "train.prompt_format"),
        ({"checkpoint_every": -1}, "train.checkpoint_every"),
    ],
)
def test_train_combinations_name_both_fields(repo_copy: Path, changes: dict, expected: str) -> None:
    r = copy.deepcopy(raw(repo_copy))
    r["train"].update(changes)
    with pytest.raises(ParamsError) as e:
        parse_params(r, "params.yaml", repo_copy)
    assert expected in str(e.value)


def test_valid_train_combinations_pass(repo_copy: Path) -> None:
    for changes in (
        {"loss_type": "robust", "label_smoothing": 0.1},
        {"loss_type": "ipo"},
        {"warmup": 100},
        {"prompt_format": "alpaca", "checkpoint_every": 0, "compass_every": 0},
    ):
        r = copy.deepcopy(raw(repo_copy))
        r["train"].update(changes)
        assert parse_params(r, "params.yaml", repo_copy).train.model_dump().items() >= changes.items()


def test_unknown_embedded_model_and_missing_file(repo_copy: Path, tmp_path: Path) -> None:
    r = copy.deepcopy(raw(repo_copy))
    r["models"]["smollm2-135m"]["source"] = "embedded:gpt-9"
    with pytest.raises(ParamsError, match="unknown embedded model 'gpt-9'"):
        parse_params(r, "params.yaml", repo_copy)
    with pytest.raises(ParamsError, match="file not found"):
        load_params(tmp_path / "absent.yaml")


def test_every_shipped_params_file_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    files = [root / "params.yaml", *sorted((root / "profiles").glob("*.yaml"))]
    assert len(files) >= 3  # params.yaml, profiles/cpu.yaml, profiles/paper.yaml
    for f in files:
        p = load_params(f, root)
        assert p.models and p.ideologies, f.name


def test_heldout_instruments_checked(repo_copy: Path) -> None:
    r = copy.deepcopy(raw(repo_copy))
    r["evaluate"]["heldout_instruments"] = [r["evaluate"]["instrument"], "data/instruments/nope.csv"]
    with pytest.raises(ParamsError) as e:
        parse_params(r, "params.yaml", repo_copy)
    msg = str(e.value)
    assert "evaluate.heldout_instruments.1: 'data/instruments/nope.csv' does not exist" in msg
    assert "evaluate.heldout_instruments lists evaluate.instrument" in msg


def test_dtype_auto_picks_bfloat16_only_where_the_cpu_computes_it(monkeypatch) -> None:  # noqa: ANN001
    import politune.models as models

    assert models.resolve_dtype("float32") == "float32" and models.resolve_dtype("bfloat16") == "bfloat16"
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr(models, "cpu_has_native_bf16", lambda: False)
    assert models.resolve_dtype("auto") == "float32"  # AVX2-only: bfloat16 is emulated, ~100x slower
    monkeypatch.setattr(models, "cpu_has_native_bf16", lambda: True)
    assert models.resolve_dtype("auto") == "bfloat16"
    import torch

    assert models.torch_dtype("auto") is torch.bfloat16


def test_every_default_is_the_shipped_cpu_profiles_value() -> None:
    """One source of defaults: each field's default in politune.params equals profiles/cpu.yaml's value (the
    params.yaml a new user starts with), so code that builds a section without a key and a pipeline run that
    reads the file agree. Every defaulted key that the profile writes out is compared."""
    from pydantic import BaseModel

    from politune.params import Params

    def walk(cls: type[BaseModel], data: dict, prefix: str = "") -> list[str]:
        differ = []
        for name, field in cls.model_fields.items():
            if name not in data:
                continue
            value, ann = data[name], field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel) and isinstance(value, dict):
                differ += walk(ann, value, f"{prefix}{name}.")
                continue
            if field.is_required():
                continue
            default = field.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                default = default.model_dump()
            if default != value:
                differ.append(f"{prefix}{name}: code {default!r}, profiles/cpu.yaml {value!r}")
        return differ

    root = Path(__file__).resolve().parents[2]
    profile = yaml.safe_load((root / "profiles" / "cpu.yaml").read_text())
    assert walk(Params, profile) == []
