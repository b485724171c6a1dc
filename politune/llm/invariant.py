"""Batch-invariant scoring on CPU: a prompt's log-probabilities that do not depend on the batch it ran in.

Why: the annotator's relevance decision is a threshold (`select.min_relevance`), so a change in the last bits of a
probability can move a passage in or out, and every later output follows. Measured on SmolLM2-135M in float32
(2 cores, torch 2.13, MKL sgemm; docs/reliability.md): the same passage scored alone and in batches of 2, 5 or 16
gave log-probabilities up to 3e-5 apart. Two things made them differ:

- **Matrix products whose row count changes the arithmetic.** MKL picks its kernel by the shape: a row multiplied
  as part of 1-15 rows gives other bits than the same row among 64 or 512 (and, for some shapes, among 57-61).
  Within one fixed shape the result of a row does not depend on its position or on the other rows (checked for
  every linear layer of SmolLM2 at 64 rows, on AVX-512 and on forced-AVX2 kernels). So every linear layer here
  multiplies in tiles of exactly `TILE` rows (the last tile zero-filled): a row's bits no longer depend on how
  many rows ran beside it.
- **Left padding.** Shorter prompts in a batch are padded, which moves their tokens within attention's vectors
  and changes the order of its sums. The backend's batch-invariant mode batches only prompts of the same token
  length, so nothing is padded (posts sorted by length fall into such groups; at the default 1,066 passages have
  64 distinct prompt lengths).

Together, a prompt's scores are a function of the prompt alone on a given machine (tested bitwise:
tests/unit/test_llm_backend.py). Different CPUs (AVX2 against AVX-512 kernels), thread counts or torch versions
can still give other bits; politune.numerics records those so a diff can say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F

# rows per matrix product. Measured on the default's 1,066 passages (2 cores, AVX-512, float32): plain batches 8.9
# passages/s; equal-length batches alone 9.2 (no padding); with tiles of 64 rows (16 in the vocabulary projection,
# which sees one row per prompt in the prompt pass) 6.4; 128/16 6.5; 256/16 6.3; 64/64 6.6. The tiles cost about
# a quarter of the speed, whatever their size
TILE = 64
HEAD_TILE = 16


def tiled_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, tile: int = TILE
) -> torch.Tensor:
    """F.linear computed on tiles of exactly `tile` rows: each row's result is the same whatever rows surround it."""
    lead, k = x.shape[:-1], x.shape[-1]
    rows = x.reshape(-1, k)
    m = rows.shape[0]
    pad = (-m) % tile
    if pad:
        rows = torch.cat([rows, rows.new_zeros(pad, k)])
    rows = rows.contiguous()
    out = torch.cat([F.linear(t, weight, bias) for t in rows.split(tile)])
    return out[:m].reshape(*lead, out.shape[-1])


class _TiledForward:
    def __init__(self, module: torch.nn.Linear, tile: int) -> None:
        self.module, self.tile = module, tile

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return tiled_linear(x, self.module.weight, self.module.bias, self.tile)


_CHECKED: dict[tuple[int, int, int, str, str], bool] = {}


def rows_are_position_invariant(
    k: int, n: int, tile: int, dtype: torch.dtype = torch.float32, device: str = "cpu"
) -> bool:
    """Whether, on this machine, a row multiplied within a `tile`-row product gives the same bits at any position
    among any other rows (what tiling relies on; true for every shape checked on AVX2 and AVX-512 kernels at
    16 and 64 rows, but not for every tile size: 8 and 32 fail on AVX2). Checked once per shape, with seeded
    random rows at several positions."""
    key = (k, n, tile, str(dtype), device)
    if key not in _CHECKED:
        g = torch.Generator().manual_seed(k * 31 + n)
        w = torch.randn(n, k, generator=g).to(device, dtype)
        row = torch.randn(k, generator=g).to(device, dtype)
        outs = []
        for pos in sorted({0, 1, tile // 2, tile - 1}):
            x = torch.randn(tile, k, generator=g).to(device, dtype)
            x[pos] = row
            outs.append(F.linear(x, w)[pos])
        _CHECKED[key] = all(torch.equal(o, outs[0]) for o in outs)
    return _CHECKED[key]


def _tiled_layers(model: Any) -> list[tuple[torch.nn.Linear, int]]:
    """Every torch.nn.Linear of `model` (LoRA layers' inner ones too) with its tile: HEAD_TILE for the vocabulary
    projection, TILE for the rest."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    return [(m, HEAD_TILE if m is head else TILE) for m in model.modules() if type(m) is torch.nn.Linear]


def tiling_holds(model: Any) -> bool:
    """Whether every linear layer of `model` can be tiled batch-invariantly on this machine."""
    shapes = {
        (m.in_features, m.out_features, tile, m.weight.dtype, str(m.weight.device))
        for m, tile in _tiled_layers(model)
    }
    return all(rows_are_position_invariant(*shape) for shape in shapes)


@contextmanager
def batch_invariant_linears(model: Any) -> Iterator[None]:
    """Within the block, every linear layer of `model` multiplies in fixed tiles (_tiled_layers)."""
    patched = _tiled_layers(model)
    for module, tile in patched:
        vars(module)["forward"] = _TiledForward(module, tile)  # an instance attribute shadows the class's
    try:
        yield
    finally:
        for module, _ in patched:
            vars(module).pop("forward", None)  # the class's forward again


def equal_length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices (in input order) grouped into batches of at most `batch_size` prompts of one length each."""
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        groups.setdefault(n, []).append(i)
    return [
        idx[j : j + batch_size] for _, idx in sorted(groups.items()) for j in range(0, len(idx), batch_size)
    ]
