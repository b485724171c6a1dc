"""transformers backend: batched log-prob scoring on CPU (or GPU) with any causal LM.

Single-token options (e.g. "A", "B", "C") take one forward pass per prompt; multi-token options
(whole answer sentences) take one pass per (prompt, option), batched.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from politune.llm.base import Messages

log = logging.getLogger(__name__)


class TransformersBackend:
    def __init__(self, model: Any, tokenizer: Any, model_id: str = "model", batch_size: int = 16,
                 progress: bool = True, share_prefix: bool = True):
        self.model = model
        self.tok = tokenizer
        self.model_id = model_id
        self.batch_size = batch_size
        self.progress = progress
        self.share_prefix = share_prefix

    def render(self, messages: Messages) -> list[int]:
        ids = self.tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):
            ids = ids["input_ids"]
        return list(ids)

    def _encode_option(self, option: str) -> list[int]:
        return self.tok(option, add_special_tokens=False)["input_ids"]

    @torch.inference_mode()
    def _forward(self, seqs: list[list[int]]) -> torch.Tensor:
        """Right-padded batch -> log-softmax over the vocabulary, shape (b, t, v)."""
        width = max(len(s) for s in seqs)
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        device = next(self.model.parameters()).device
        out = self.model(input_ids=ids.to(device), attention_mask=mask.to(device))
        return torch.log_softmax(out.logits.float(), dim=-1).cpu()

    def option_logprobs(self, prompts: list[Messages], options: list[str]) -> np.ndarray:
        rendered = [self.render(m) for m in prompts]
        # batches of similar length waste little on padding; results are put back in input order
        order = sorted(range(len(rendered)), key=lambda i: len(rendered[i]))
        scored = self._option_logprobs([rendered[i] for i in order], options)
        result = np.empty_like(scored)
        result[order] = scored
        return result

    def _option_logprobs(self, rendered: list[list[int]], options: list[str]) -> np.ndarray:
        opt_ids = [self._encode_option(o) for o in options]
        result = np.zeros((len(rendered), len(options)), dtype=np.float64)
        bs = self.batch_size
        if all(len(o) == 1 for o in opt_ids):
            firsts = [o[0] for o in opt_ids]
            for start in tqdm(range(0, len(rendered), bs), desc=f"score {self.model_id}", disable=not self.progress,
                              mininterval=2):
                batch = rendered[start : start + bs]
                lp = self._forward(batch)
                for i, s in enumerate(batch):
                    result[start + i] = lp[i, len(s) - 1, firsts].numpy()
            return result
        if self.share_prefix:
            return self._shared_prefix(rendered, opt_ids, result)
        pairs = [(i, j) for i in range(len(rendered)) for j in range(len(options))]
        for start in tqdm(range(0, len(pairs), bs), desc=f"score {self.model_id}", disable=not self.progress,
                          mininterval=2):
            chunk = pairs[start : start + bs]
            seqs = [rendered[i] + opt_ids[j] for i, j in chunk]
            lp = self._forward(seqs)
            for b, (i, j) in enumerate(chunk):
                p_len, o = len(rendered[i]), opt_ids[j]
                positions = torch.arange(p_len - 1, p_len - 1 + len(o))
                result[i, j] = lp[b, positions, torch.tensor(o)].sum().item()
        return result

    @torch.inference_mode()
    def _shared_prefix(self, rendered: list[list[int]], opt_ids: list[list[int]], result: np.ndarray) -> np.ndarray:
        """Run each prompt once (left-padded batch, KV cache kept), then only the option tokens.

        k options cost one prompt pass plus k short passes instead of k full passes (~2.5x faster for
        3 options on 150-token prompts). Matches the unshared path to float precision (tested).
        """
        import copy

        device = next(self.model.parameters()).device
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0
        for start in tqdm(range(0, len(rendered), self.batch_size), desc=f"score {self.model_id}",
                          disable=not self.progress, mininterval=2):
            batch = rendered[start : start + self.batch_size]
            width = max(len(s) for s in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for i, s in enumerate(batch):
                ids[i, width - len(s) :] = torch.tensor(s)
                mask[i, width - len(s) :] = 1
            pos = (mask.cumsum(-1) - 1).clamp(min=0)
            out = self.model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=pos.to(device),
                             use_cache=True)
            first = torch.log_softmax(out.logits[:, -1].float(), dim=-1).cpu()
            for j, o in enumerate(opt_ids):
                score = first[:, o[0]].clone()
                if len(o) > 1:
                    rest = len(o) - 1
                    cont = torch.tensor(o[:-1]).expand(len(batch), rest)
                    m2 = torch.cat([mask, torch.ones((len(batch), rest), dtype=torch.long)], dim=1)
                    pos2 = pos[:, -1:] + torch.arange(1, rest + 1)
                    out2 = self.model(input_ids=cont.to(device), attention_mask=m2.to(device),
                                      position_ids=pos2.to(device), past_key_values=copy.deepcopy(out.past_key_values),
                                      use_cache=True)
                    lp2 = torch.log_softmax(out2.logits.float(), dim=-1).cpu()
                    score += lp2[:, torch.arange(rest), torch.tensor(o[1:])].sum(-1)
                result[start : start + len(batch), j] = score.numpy()
        return result
