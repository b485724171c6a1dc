"""Corrupt and hostile model files: a real LoRA adapter (tiny model) bit-flipped, truncated, or swapped for a
pickle that would run code; a base model folder asking for remote code. Nothing is executed, every refusal
names the path; figures go to the fault table."""

from __future__ import annotations

import ast
import json
import pickle
import shutil
from pathlib import Path

import pytest

from politune.manifest import ManifestError, write_manifest
from politune.models import load_model

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.faults


class Payload:
    """Unpickling this creates the file named by `marker`: proof that pickled code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


@pytest.fixture()
def adapter(tiny_model_dir: Path, tmp_path: Path) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    out = tmp_path / "adapter"
    peft.save_pretrained(out, safe_serialization=True)
    write_manifest(out)
    load_model(tiny_model_dir, adapter=out)  # loads as saved
    return out


def test_bit_flip_and_truncation_caught_with_both_hashes(
    tiny_model_dir: Path, adapter: Path, fault_record
) -> None:  # noqa: ANN001
    f = adapter / "adapter_model.safetensors"
    good = f.read_bytes()
    b = bytearray(good)
    b[len(b) // 2] ^= 0x10
    f.write_bytes(bytes(b))
    with pytest.raises(ManifestError) as flip:
        load_model(tiny_model_dir, adapter=adapter)
    f.write_bytes(good[: len(good) // 3])
    with pytest.raises(ManifestError) as cut:
        load_model(tiny_model_dir, adapter=adapter)
    for e in (flip, cut):
        msg = str(e.value)
        assert msg.startswith(str(f)) and "sha256 mismatch: manifest" in msg and msg.count("file ") == 1
    fault_record(
        "Corrupted adapter",
        f"one bit flipped, then the file cut to a third ({len(good)} -> "
        f"{len(good) // 3} bytes), in a real LoRA adapter",
        "refused before loading: the error names the file and both sha256 hashes",
        message=str(flip.value).replace(str(adapter.parent) + "/", "")[:120] + "...",
    )


def test_planted_pickle_is_refused_and_never_executed(
    tiny_model_dir: Path, adapter: Path, tmp_path: Path, fault_record
) -> None:  # noqa: ANN001
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Payload(marker))
    pickle.loads(pickle.dumps(Payload(tmp_path / "control")))  # noqa: S301 - the payload is live when unpickled
    assert (tmp_path / "control").exists()
    # 1. a pickle beside (or instead of) the safetensors, listed in a freshly written manifest
    (adapter / "adapter_model.safetensors").unlink()
    (adapter / "adapter_model.bin").write_bytes(evil)
    write_manifest(adapter)
    with pytest.raises(ManifestError, match="adapter_model.bin: pickle-format file refused"):
        load_model(tiny_model_dir, adapter=adapter)
    # 2. the pickle renamed to the safetensors name, manifest rewritten to match: the safetensors parser refuses
    (adapter / "adapter_model.bin").rename(adapter / "adapter_model.safetensors")
    write_manifest(adapter)
    from safetensors import SafetensorError

    with pytest.raises(SafetensorError) as renamed:
        load_model(tiny_model_dir, adapter=adapter)
    # 3. a base model folder whose weights are a pickle
    base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base)
    (base / "model.safetensors").unlink()
    (base / "pytorch_model.bin").write_bytes(evil)
    with pytest.raises(OSError, match="safetensors|model.safetensors"):
        load_model(base)
    assert not marker.exists(), "pickled code ran"
    fault_record(
        "Pickle planted where weights are expected",
        "a pickle that creates a file when loaded, as "
        "adapter_model.bin, renamed to adapter_model.safetensors (manifest rewritten), and as a base "
        "model's pytorch_model.bin",
        "all three refused; the marker file was never created",
        code_executed="no",
        safetensors_error=type(renamed.value).__name__,
    )


def test_remote_code_is_never_run(tiny_model_dir: Path, tmp_path: Path, fault_record) -> None:  # noqa: ANN001
    marker = tmp_path / "remote-code-ran"
    base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base)
    (base / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nfrom transformers import LlamaForCausalLM as EvilForCausalLM\n"
    )
    cfg = json.loads((base / "config.json").read_text())
    cfg["auto_map"] = {"AutoModelForCausalLM": "evil.EvilForCausalLM"}
    (base / "config.json").write_text(json.dumps(cfg))
    try:
        load_model(base)  # the built-in Llama class loads it, or transformers refuses: either way no import
        outcome = "loaded with transformers' own Llama class"
    except ValueError as e:
        assert "trust_remote_code" in str(e)
        outcome = "refused by transformers"
    assert not marker.exists(), "the model folder's own Python code ran"
    # and no call in the project turns it on, loads a pickle, or unpickles
    offenders = []
    for path in [*(REPO / "politune").rglob("*.py"), *(REPO / "stages").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                kw = {k.arg: k.value for k in node.keywords}
                rc = kw.get("trust_remote_code")
                if rc is not None and not (isinstance(rc, ast.Constant) and rc.value is False):
                    offenders.append(f"{path.name}:{node.lineno} trust_remote_code")
                name = ast.unparse(node.func)
                if name in ("pickle.load", "pickle.loads") or (
                    name == "torch.load"
                    and not (
                        isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True
                    )
                ):
                    offenders.append(f"{path.name}:{node.lineno} {name}")
    assert offenders == []
    fault_record(
        "Model folder asking for remote code",
        "config.json `auto_map` pointing at a Python file that creates a marker when imported",
        "the file was never imported; no call in politune/ or stages/ "
        "enables trust_remote_code, unpickles, or calls torch.load without weights_only=True",
        code_executed="no",
        offending_calls=0,
        model=outcome,
    )
