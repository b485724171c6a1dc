"""Shared fixtures: a tiny causal LM and tokenizer built from a config inside the test run (no network,
no downloaded weights), saved as a base-model folder that politune.models loads like a real one."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CORPUS = [
    "We need higher taxes on billionaires and Medicare for All.",
    "Cut taxes, shrink government, and let small business grow!",
    "Unions built the middle class. Support the strike.",
    "Build the wall and enforce the border.",
    "I strongly agree with this statement. I disagree with this statement.",
    "The author is a liberal. The author is a conservative. The post is not about politics.",
    "Consider this statement: do you agree or disagree? Give your own opinion.",
]

# preference pairs for training the tiny model (tests/unit/test_train.py, tests/stages/test_multiprocess_train.py)
DPO_PAIRS = [
    {"prompt": "What about taxes?", "chosen": "Tax the billionaires.", "rejected": "Cut taxes for all."},
    {
        "prompt": "What about unions?",
        "chosen": "Unions built the middle class.",
        "rejected": "Unions hurt jobs.",
    },
    {"prompt": "What about guns?", "chosen": "Background checks now.", "rejected": "Hands off my guns."},
    {"prompt": "What about the border?", "chosen": "Welcome refugees.", "rejected": "Build the wall."},
] * 2


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    out = tmp_path_factory.mktemp("tiny-base")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        CORPUS * 20,
        vocab_size=400,
        min_frequency=1,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None
    )
    tok.chat_template = CHATML
    tiny_llama(tok, seed=0).save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    return out


def tiny_llama(
    tok: object, seed: int, hidden: int = 32, intermediate: int = 64, max_positions: int = 512
) -> Any:
    """A 2-layer Llama with `tok`'s vocabulary, its weights drawn from `seed` (the tiny model's config; wider
    layers where a test needs BLAS to pick kernels by shape, as it does for SmolLM2)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tok),  # type: ignore[arg-type]
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        pad_token_id=tok.pad_token_id,  # type: ignore[attr-defined]
        eos_token_id=tok.eos_token_id,  # type: ignore[attr-defined]
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(cfg)


@pytest.fixture()
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the repository's params, data and instruments in a temp dir (no models, no DVC state)."""
    dst = tmp_path / "repo"
    dst.mkdir()
    shutil.copy(REPO / "params.yaml", dst / "params.yaml")
    shutil.copytree(REPO / "data" / "raw", dst / "data" / "raw")
    shutil.copytree(REPO / "data" / "instruments", dst / "data" / "instruments")
    shutil.copytree(REPO / "data" / "annotation", dst / "data" / "annotation")
    shutil.copytree(REPO / "data" / "openended", dst / "data" / "openended")
    shutil.copytree(REPO / "data" / "neutral", dst / "data" / "neutral")
    for f in (REPO / "data").iterdir():  # topics.csv, qualitative_prompts.txt, ...
        if f.is_file():
            shutil.copy(f, dst / "data" / f.name)
    return dst


@pytest.fixture(scope="session")
def git_copy():  # noqa: ANN201
    """copy(dst): scripts/repo_copy.py's working copy of the repository in `dst`, ready for `dvc repro`."""
    sys.path.insert(0, str(REPO / "scripts"))
    from repo_copy import copy_repository

    def copy(dst: Path) -> Path:
        return copy_repository(dst, REPO)

    return copy


# --- the fault table: tests of the reliability suite record what they injected and what happened -----------
FAULTS: list[dict[str, str]] = []


@pytest.fixture()
def fault_record(request: pytest.FixtureRequest):  # noqa: ANN201
    """record(fault, injected, outcome, **figures): one row of the fault table (docs/faults.md).

    The table is written at the end of the run when POLITUNE_FAULTS_TABLE names a file (`make faults`)."""

    def record(fault: str, injected: str, outcome: str, **figures: object) -> None:
        figs = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in figures.items())
        test = request.node.nodeid.split("::")
        FAULTS.append(
            {
                "fault": fault,
                "injected": injected,
                "outcome": outcome,
                "figures": figs,
                "test": f"`{Path(test[0]).name}::{test[-1]}`",
            }
        )

    return record


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get("POLITUNE_FAULTS_TABLE")
    if not out or not FAULTS:
        return
    cell = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [
        "# Fault table",
        "",
        "Written by the reliability suite: `pytest"
        + "".join(f" {a}" for a in session.config.invocation_params.args)
        + "` with POLITUNE_FAULTS_TABLE set (`make faults` does this)",
        f"on {platform.node() or 'this machine'}, {os.cpu_count()} CPUs,"
        f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; pytest exit status {int(exitstatus)}.",
        "Every figure below was measured by the test named in the last column during that run; seconds are",
        "wall time on that machine.",
        "",
        "| Fault | Injected | What happened | Figures | Test |",
        "|---|---|---|---|---|",
    ]
    for r in FAULTS:
        lines.append(
            "| " + " | ".join(cell(r[k]) for k in ("fault", "injected", "outcome", "figures", "test")) + " |"
        )
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")
