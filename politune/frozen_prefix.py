"""Reuse the frozen bottom layers' output across a DPO run: compute it once per sequence, not once per step.

With LoRA on the top layers only (`train.lora_top_layers`), the layers below the first adapted one are frozen and
see the same tokens every time a pair comes back: in the reference pass that trl runs once per pair
(`precompute_ref_log_probs`), in every epoch, and in the validation pass. Their output for a sequence never
changes, so this module keeps it (per sequence, keyed by its token ids) the first time it is computed and hands it
back afterwards; the layers themselves then do no work. With the default (30 layers, adapter on the top 10) a
training step runs 10 layers forward and 10 backward instead of 30 and 10.

The same idea as caching features under a frozen backbone; nothing here changes the arithmetic of a sequence's
tokens, only whether it is done again. What differs is float rounding: a cached row was computed in a batch of
other shapes (padding), so losses agree to about 1e-6, not bit for bit (tests/unit/test_train.py guards it).

When it stays out of the way (the batch runs every layer as usual, nothing is stored):
- calls made inside `cache.paused()` (politune.train pauses it for the compass probe, whose prompts are not
  training data);
- the input embeddings train or hold an adapter (what feeds layer 0 may change), or no layer is frozen;
- batches that are not right-padded token ids with an attention mask (the cache is valid only when a token's
  position is its index in the row);
- any dropout in the frozen layers with p > 0 while training (their output would not be deterministic);
- the cap on memory (`max_bytes`) is reached: later sequences are computed as usual.
A batch is served from the cache only when every one of its rows is there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)


def frozen_prefix_depth(layers: Any) -> int:
    """How many of the bottom decoder layers hold neither an adapter (a peft tuner layer, enabled or not: trl's
    reference pass disables it, and its weights then report requires_grad False) nor a trainable parameter; stops
    at the first that does. All of them when none does."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    depth = 0
    for layer in layers:
        if any(isinstance(m, BaseTunerLayer) for m in layer.modules()) or any(
            p.requires_grad for p in layer.parameters()
        ):
            break
        depth += 1
    return depth


class FrozenPrefixCache:
    """Per-sequence output of the frozen layers 0..depth-1 (see the module docstring), in `rows`. Counters:
    `hits` and `misses` (batches served and computed), `bytes` (of what `rows` holds)."""

    def __init__(self, depth: int, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.is_paused = False
        self.reset(depth)

    def reset(self, depth: int) -> None:
        self.depth = depth
        self.rows: dict[bytes, Any] = {}
        self.bytes = 0
        self.hits = self.misses = 0
        self.full_logged = False
        self._batch: list[tuple[bytes, int]] | None = None  # (key, length) per row of the current call
        self._serve = False

    # ---- per call ----
    def begin(self, input_ids: Any, attention_mask: Any) -> None:
        """Called before the backbone runs: decide whether this batch can be served from the cache."""
        self._batch, self._serve = None, False
        if input_ids is None or attention_mask is None or input_ids.dim() != 2:
            return
        lengths = attention_mask.sum(dim=1)
        width = attention_mask.shape[1]
        # right padding only: each row's mask is n ones then zeros
        import torch

        expected = torch.arange(width, device=attention_mask.device).unsqueeze(0) < lengths.unsqueeze(1)
        if not torch.equal(attention_mask.bool(), expected):
            return
        ids = input_ids.cpu()
        batch = []
        for row, n in enumerate(lengths.tolist()):
            batch.append((ids[row, :n].numpy().tobytes(), int(n)))
        self._batch = batch
        self._serve = all(key in self.rows for key, _ in batch)
        if self._serve:
            self.hits += 1
        else:
            self.misses += 1

    def end(self) -> None:
        self._batch, self._serve = None, False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls within this block run every layer and store nothing."""
        was, self.is_paused = self.is_paused, True
        try:
            yield
        finally:
            self.is_paused = was

    # ---- inside the layers ----
    def first_layer(self, hidden_states: Any) -> Any | None:
        """The output of the whole frozen prefix for this batch if cached (else None: run the layers)."""
        if not self._serve or self._batch is None:
            return None
        out = hidden_states.new_zeros(hidden_states.shape)
        for row, (key, n) in enumerate(self._batch):
            out[row, :n] = self.rows[key]
        return out

    def serving(self) -> bool:
        return self._serve

    def store(self, hidden_states: Any) -> None:
        """Keep the prefix's output (the last frozen layer's) for the rows not yet cached, within the cap."""
        if self._serve or self._batch is None:
            return
        for row, (key, n) in enumerate(self._batch):
            if key in self.rows:
                continue
            value = hidden_states[row, :n].detach().clone()
            size = value.numel() * value.element_size()
            if self.bytes + size > self.max_bytes:
                if not self.full_logged:
                    log.info(
                        "frozen-layer cache full (%d MB): later sequences run every layer", self.bytes >> 20
                    )
                    self.full_logged = True
                return
            self.rows[key] = value
            self.bytes += size

    def summary(self) -> dict[str, int]:
        return {
            "frozen_layers_cached": self.depth,
            "frozen_cache_hits": self.hits,
            "frozen_cache_misses": self.misses,
            "frozen_cache_sequences": len(self.rows),
            "frozen_cache_mb": round(self.bytes / 2**20),
        }


def _dropout_active(layers: Any) -> bool:
    import torch

    return any(
        isinstance(m, torch.nn.Dropout) and m.p > 0 and m.training
        for layer in layers
        for m in layer.modules()
    )


@contextmanager
def reuse_frozen_prefix(model: Any, max_bytes: int = 2 << 30) -> Iterator[FrozenPrefixCache | None]:
    """Within this block, forward passes of `model`'s backbone (a peft model or a transformers causal LM whose
    backbone has `.layers`) reuse the frozen bottom layers' output per sequence. Which layers are frozen is read
    at the first call (install this before trl attaches the adapter: trl's reference pass runs inside
    DPOTrainer's constructor). Yields the cache (None for a model of another shape); `cache.paused()` turns it off
    for calls that should not fill it (the compass probe). Everything is put back on exit.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    backbone = getattr(base, "model", None)
    layers = getattr(backbone, "layers", None)
    if backbone is None or layers is None or len(layers) == 0:
        log.info("frozen-layer cache off: %s has no .model.layers", type(base).__name__)
        yield None
        return
    cache = FrozenPrefixCache(0, max_bytes)
    all_layers = list(layers)

    embeddings = backbone.get_input_embeddings() if hasattr(backbone, "get_input_embeddings") else None

    def pre(module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        depth = frozen_prefix_depth(all_layers) % len(all_layers)  # every layer frozen: no adapter yet, off
        if embeddings is None or frozen_prefix_depth([embeddings]) == 0:  # what feeds layer 0 may change: off
            depth = 0
        if depth != cache.depth:  # first call, or the adapter moved: what is stored no longer applies
            if cache.depth:
                log.warning(
                    "frozen-layer cache: the frozen layers changed (%d -> %d); emptied", cache.depth, depth
                )
            cache.reset(depth)
        if depth == 0 or cache.is_paused or _dropout_active(all_layers[:depth]):
            return
        ids = kwargs.get("input_ids", args[0] if args else None)
        if kwargs.get("inputs_embeds") is not None or not _default_positions(kwargs.get("position_ids"), ids):
            return
        cache.begin(ids, kwargs.get("attention_mask"))

    def post(module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        cache.end()

    def wrap(i: int, layer: Any) -> Any:
        forward = layer.forward

        def cached_forward(hidden_states: Any, *args: Any, **kwargs: Any) -> Any:
            if i < cache.depth and cache.serving():
                return cache.first_layer(hidden_states) if i == 0 else hidden_states
            out = forward(hidden_states, *args, **kwargs)
            if i == cache.depth - 1:
                cache.store(out)
            return out

        return cached_forward

    handles = [
        backbone.register_forward_pre_hook(pre, with_kwargs=True),
        backbone.register_forward_hook(post, with_kwargs=True, always_call=True),
    ]
    for i, layer in enumerate(all_layers):
        layer.forward = wrap(i, layer)
    try:
        yield cache
    finally:
        for h in handles:
            h.remove()
        for layer in all_layers:
            del layer.forward  # back to the class's forward
        log.info(
            "frozen-layer cache: %d of %d layers, %d batches served, %d computed, %d sequences (%d MB)",
            cache.depth,
            len(all_layers),
            cache.hits,
            cache.misses,
            len(cache.rows),
            cache.bytes >> 20,
        )


def _default_positions(position_ids: Any, input_ids: Any) -> bool:
    """No position ids, or 0..width-1 on every row (what the backbone uses when given none)."""
    if position_ids is None:
        return True
    if input_ids is None:
        return False
    import torch

    width = input_ids.shape[-1]
    return bool(
        torch.equal(
            position_ids.expand(input_ids.shape[0], width).cpu(),
            torch.arange(width).expand(input_ids.shape[0], width),
        )
    )
