"""Adapters carry a sha256 manifest: corruption is caught with path and both hashes; pickles are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from politune.manifest import ManifestError, verify_manifest, write_manifest


def make(tmp_path: Path) -> Path:
    d = tmp_path / "adapter"
    d.mkdir(parents=True)
    (d / "adapter_model.safetensors").write_bytes(bytes(range(256)) * 4)
    (d / "adapter_config.json").write_text("{}")
    write_manifest(d)
    return d


def test_bit_flip_detected(tmp_path: Path) -> None:
    d = make(tmp_path)
    verify_manifest(d)
    f = d / "adapter_model.safetensors"
    b = bytearray(f.read_bytes())
    b[100] ^= 0x01
    f.write_bytes(bytes(b))
    with pytest.raises(
        ManifestError,
        match=r"adapter_model.safetensors: sha256 mismatch: manifest [0-9a-f]{64}, file [0-9a-f]{64}",
    ):
        verify_manifest(d)


def test_truncation_and_pickle_refused(tmp_path: Path) -> None:
    d = make(tmp_path)
    f = d / "adapter_model.safetensors"
    f.write_bytes(f.read_bytes()[:10])
    with pytest.raises(ManifestError, match="mismatch"):
        verify_manifest(d)
    d2 = make(tmp_path / "x")
    (d2 / "adapter_model.bin").write_bytes(b"\x80\x04pickle")
    with pytest.raises(ManifestError, match="pickle-format file refused"):
        verify_manifest(d2)
    (tmp_path / "none").mkdir()
    with pytest.raises(ManifestError, match="no manifest"):
        verify_manifest(tmp_path / "none")
