"""The one hasher: its digests name cached work (row-cache keys, the trainer's checkpoint fingerprint) and check
adapters (manifests). A change in how any is computed would silently invalidate every cache: the values are
pinned here (computed with the code before politune/hashing.py existed)."""

from __future__ import annotations

from pathlib import Path

from politune.hashing import sha256_file, sha256_json, sha256_text
from politune.manifest import write_manifest
from politune.rowcache import RowCache, context_hash

PARTS = {
    "train": {"lr": 5e-4, "epochs": 2},
    "dtype": "float32",
    "pairs": ["abc"],
    "instrument": None,
    "path": Path("a/b"),  # not JSON: hashed as its str()
}


def test_sha256_text_is_pinned() -> None:
    assert sha256_text("héllo\n") == "b95becd154aa095f76c4ca47a5aeb8350d6dfcb838404edfc9dae06628de938d"


def test_sha256_json_is_pinned_and_ignores_key_order() -> None:
    # == stages/train.py's former fingerprint(PARTS): checkpoints already on disk keep resuming
    fp = "fa3d1caa7712eb930100912619b9d08d2b95fe72390013c666e4cec0fe874b35"
    assert sha256_json(PARTS) == fp
    assert sha256_json(dict(reversed(list(PARTS.items())))) == fp


def test_rowcache_keys_are_pinned(tmp_path: Path) -> None:
    ctx = context_hash(template="t1", model="m", schema=1)
    assert ctx == "d92c90c42303e1c9cbeafe5744f620a0ca2d683249c17266f8b657a87c1af5c5"
    assert context_hash(schema=1, model="m", template="t1") == ctx
    key = RowCache(tmp_path, ctx).key("post number 0")
    assert key == "94303cf5736e6975ffa1c5455a91dac91e13a3dc13ad1d13294b075ac8dc1727"


def test_file_hash_is_pinned_and_used_by_the_manifest(tmp_path: Path) -> None:
    f = tmp_path / "adapter_model.safetensors"
    f.write_bytes(bytes(range(256)) * 4)
    digest = "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9"
    assert sha256_file(f) == digest
    assert write_manifest(tmp_path) == {"adapter_model.safetensors": digest}
