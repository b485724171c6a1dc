"""The pieces of the GPU path that can be checked without a GPU: where models are placed, and the shrunk run
that scripts/gpu_check.py and the end-to-end tests make from the default."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from politune.models import compute_device
from politune.params import load_params
from politune.profiles import SMOKE, override

REPO = Path(__file__).resolve().parents[2]


def test_compute_device_follows_cuda_and_local_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert compute_device() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert compute_device() == "cuda:3"  # the process's own GPU under accelerate/torchrun
    monkeypatch.delenv("LOCAL_RANK")
    assert compute_device() == "cuda:0"


def test_smoke_overrides_name_existing_keys_and_validate(tmp_path: Path) -> None:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    shrunk = override(raw, SMOKE)
    assert shrunk["synthesize"]["pairs_per_ideology"] == SMOKE["synthesize.pairs_per_ideology"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(shrunk))
    for sub in ("data", "profiles"):
        (tmp_path / sub).symlink_to(REPO / sub)
    p = load_params(tmp_path / "params.yaml", tmp_path)  # the shrunk default is a valid params file
    assert p.train.epochs == SMOKE["train.epochs"]


def test_override_refuses_a_key_that_does_not_exist() -> None:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    with pytest.raises(KeyError, match="train.lerning_rate"):
        override(raw, {"train.lerning_rate": 1e-4})
    with pytest.raises(KeyError, match="nope"):
        override(raw, {"nope.x": 1})
