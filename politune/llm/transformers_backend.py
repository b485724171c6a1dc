"""transformers backend: batched log-prob scoring and sampling on CPU (or GPU) with any causal LM.

Prompts are sorted by length before batching (little padding). Single-token options take one forward
pass per prompt (last position only). Multi-token options (whole answer sentences) share the prompt's KV cache by default:
one prompt pass, then one short pass for all options together (both paths agree to 1e-4, tested).
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from politune.llm.base import Messages
from politune.llm.invariant import batch_invariant_linears, equal_length_batches, tiling_holds

log = logging.getLogger(__name__)
MIN_SHARED_PREFIX = 2  # tokens; shorter common prefixes are not worth a separate pass


def _common_prefix_len(seqs: list[list[int]]) -> int:
    """Length of the longest common prefix, leaving every sequence at least one token of its own."""
    first, n = seqs[0], min(len(s) for s in seqs) - 1
    for i in range(max(n, 0)):
        t = first[i]
        if any(s[i] != t for s in seqs):
            return i
    return max(n, 0)


def render_chat(tokenizer: Any, messages: Messages) -> list[int]:
    """The token ids of `messages` through the tokenizer's chat template, ending with the opened assistant turn
    (add_generation_prompt): what a model continues to answer. transformers 5 returns a BatchEncoding (a dict
    with `input_ids`) where 4.x returned a plain list; both give the list."""
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "input_ids"):
        ids = ids["input_ids"]
    return list(ids)


class TransformersBackend:
    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        model_id: str = "model",
        batch_size: int = 16,
        progress: bool = True,
        share_prefix: bool = True,
        shared_prefix_len: int | None = None,
        generate_batch_size: int | None = None,
        batch_invariant: bool = False,
    ):
        self.model = model
        self.tok = tokenizer
        self.model_id = model_id
        self.batch_size = batch_size
        # prompts per generate() call (default: batch_size). Decoding runs one step per new token for the whole
        # batch, so larger batches pay the per-step overhead fewer times: 40 greedy answers of 64 tokens took
        # 42.8 s in batches of 16 and 25.3 s in one batch of 40 (SmolLM2-135M, float32, 2 cores)
        self.generate_batch_size = generate_batch_size or batch_size
        self.progress = progress
        self.share_prefix = share_prefix
        # fix the shared-prefix length (e.g. the one common to a whole corpus) so that scoring the corpus in
        # chunks runs exactly the batches one call would: bfloat16 results depend on the batch shapes
        self.shared_prefix_len = shared_prefix_len
        # batch-invariant scoring (politune.llm.invariant): each prompt's scores do not depend on the batch it ran
        # in (same-length batches, fixed-size matrix products); the annotator uses it, so a passage's relevance
        # is the same in any post set, batch size or cache state
        self.batch_invariant = batch_invariant

    @property
    def pad_id(self) -> int:
        return self.tok.pad_token_id if self.tok.pad_token_id is not None else 0

    def render(self, messages: Messages) -> list[int]:
        return render_chat(self.tok, messages)

    def _encode_option(self, option: str) -> list[int]:
        return self.tok(option, add_special_tokens=False)["input_ids"]

    def _left_pad(self, seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(ids, attention mask) with each sequence right-aligned, so all rows end at the last column."""
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, width - len(s) :] = torch.tensor(s)
            mask[i, width - len(s) :] = 1
        return ids, mask

    @torch.inference_mode()
    def _forward(self, seqs: list[list[int]]) -> torch.Tensor:
        """Right-padded batch -> log-softmax over the vocabulary, shape (b, t, v)."""
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
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
        if self.share_prefix:
            return self._shared_prefix(rendered, opt_ids, result)
        # reference path (share_prefix=False): one full pass per (prompt, option)
        pairs = [(i, j) for i in range(len(rendered)) for j in range(len(options))]
        sums = self._span_logprobs(
            [rendered[i] + opt_ids[j] for i, j in pairs],
            [len(rendered[i]) for i, _ in pairs],
            f"score {self.model_id}",
        )
        for (i, j), v in zip(pairs, sums, strict=True):
            result[i, j] = v
        return result

    @torch.inference_mode()
    def _span_logprobs(self, seqs: list[list[int]], starts: list[int], desc: str) -> np.ndarray:
        """Full passes, batched by length: for each sequence, the summed log-probs of its tokens from `start` on,
        each given every token before it."""
        order = sorted(range(len(seqs)), key=lambda j: len(seqs[j]))
        total = np.zeros(len(seqs), dtype=np.float64)
        for begin in tqdm(
            range(0, len(order), self.batch_size), desc=desc, disable=not self.progress, mininterval=2
        ):
            chunk = order[begin : begin + self.batch_size]
            lp = self._forward([seqs[j] for j in chunk])
            for b, j in enumerate(chunk):
                s, n = starts[j], len(seqs[j])
                total[j] = lp[b, torch.arange(s - 1, n - 1), torch.tensor(seqs[j][s:])].sum().item()
        return total

    @torch.inference_mode()
    def _shared_prefix(
        self, rendered: list[list[int]], opt_ids: list[list[int]] | list[list[list[int]]], result: np.ndarray
    ) -> np.ndarray:
        """Run each prompt once (left-padded batch, KV cache kept), then all of its options in one pass.

        `opt_ids`: the same k options for every prompt, or one list of k options per prompt (each prompt its own
        continuations, as continuation_logprobs needs). The tokens all prompts share (chat template, system
        prompt, question template: ~25 of ~70 tokens for the compass items) run once, and their KV cache is
        repeated for each batch. The prompt pass computes logits for the last position only (`logits_to_keep=1`:
        the vocabulary projection is ~20% of SmolLM2's compute per token). The cache is then repeated once per
        option and all options' remaining tokens run as one batch of b x k rows, right-padded to the longest
        option; padding sits after every scored token, so causal attention keeps it out of the scores. Matches
        the unshared path to float precision (tested).
        """
        device = next(self.model.parameters()).device
        per_row = bool(opt_ids) and isinstance(opt_ids[0][0], list)
        rows: list[list[list[int]]] = opt_ids if per_row else [opt_ids] * len(rendered)  # type: ignore[assignment,list-item]
        k = len(rows[0])
        rest = max(len(o) for r in rows for o in r) - 1
        # the tokens every prompt starts with (chat template, system prompt, question template) run once
        common = _common_prefix_len(rendered)
        if self.shared_prefix_len is not None:
            common = min(common, self.shared_prefix_len)
        prefix_cache = None
        if common >= MIN_SHARED_PREFIX:
            prefix_cache = self.model(
                input_ids=torch.tensor([rendered[0][:common]], device=device),
                use_cache=True,
                logits_to_keep=1,
            ).past_key_values
        else:
            common = 0
        tiled = self.batch_invariant and tiling_holds(self.model)
        if tiled:
            batches = equal_length_batches([len(r) for r in rendered], self.batch_size)
        elif self.batch_invariant:  # one prompt a pass: its shapes are its own, so its bits are too (slower)
            log.warning("batch-invariant tiling does not hold on this machine: scoring one prompt at a time")
            batches = [[i] for i in range(len(rendered))]
        else:
            batches = [
                list(range(s, min(s + self.batch_size, len(rendered))))
                for s in range(0, len(rendered), self.batch_size)
            ]
        with batch_invariant_linears(self.model) if tiled else nullcontext():
            for idx in tqdm(batches, desc=f"score {self.model_id}", disable=not self.progress, mininterval=2):
                result[idx] = self._score_batch(
                    [rendered[i] for i in idx],
                    [o for i in idx for o in rows[i]],
                    k,
                    rest,
                    common,
                    prefix_cache,
                )
        return result

    def _score_batch(
        self,
        batch: list[list[int]],
        opts: list[list[int]],
        k: int,
        rest: int,
        common: int,
        prefix_cache: Any,
    ) -> np.ndarray:
        """One batch of `_shared_prefix`: (b, k) summed log-probs of each prompt's k options (opts: row i*k + j =
        prompt i, option j)."""
        device = next(self.model.parameters()).device
        b = len(batch)
        # [shared prefix][left padding][own tokens]: padding in the middle is masked out
        ids, own_mask = self._left_pad([r[common:] for r in batch])
        mask = torch.cat([torch.ones((b, common), dtype=torch.long), own_mask], dim=1)
        pos = common + (own_mask.cumsum(-1) - 1).clamp(min=0)
        cache = None
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(b)
        out = self.model(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=pos.to(device),
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1).cpu()
        score = first.gather(1, torch.tensor([o[0] for o in opts]).view(b, k))  # (b, k)
        if rest > 0:
            # each option's tokens after its first one, right-padded: inputs and targets, (b * k, rest)
            cont = torch.full((b * k, rest), self.pad_id, dtype=torch.long)
            targets = torch.zeros((b * k, rest), dtype=torch.long)
            tgt_mask = torch.zeros((b * k, rest), dtype=torch.bool)
            for j, o in enumerate(opts):
                cont[j, : len(o) - 1] = torch.tensor(o[:-1], dtype=torch.long)
                targets[j, : len(o) - 1] = torch.tensor(o[1:], dtype=torch.long)
                tgt_mask[j, : len(o) - 1] = True
            cache = out.past_key_values
            cache.batch_repeat_interleave(k)
            m2 = torch.cat(
                [mask.repeat_interleave(k, dim=0), torch.ones((b * k, rest), dtype=torch.long)], dim=1
            )
            pos2 = pos[:, -1:].repeat_interleave(k, dim=0) + torch.arange(1, rest + 1)
            out2 = self.model(
                input_ids=cont.to(device),
                attention_mask=m2.to(device),
                position_ids=pos2.to(device),
                past_key_values=cache,
                use_cache=True,
            )
            # log p(target) = logit(target) - logsumexp(logits): no second vocabulary-sized copy
            logits = out2.logits.float()
            tgt = targets.to(logits.device).unsqueeze(-1)
            tok_lp = (
                logits.gather(-1, tgt).squeeze(-1) - torch.logsumexp(logits, dim=-1)
            ).cpu()  # (b*k, rest)
            score = score + (tok_lp * tgt_mask).sum(-1).view(b, k)
        return score.numpy()

    @torch.inference_mode()
    def generate(
        self, prompts: list[Messages], max_new_tokens: int, temperature: float, top_k: int, seed: int
    ) -> list[dict[str, Any]]:
        """Sample one answer per prompt. Returns text and finish reason ("stop" or "length")."""
        device = next(self.model.parameters()).device
        rendered = [self.render(m) for m in prompts]
        order = sorted(range(len(rendered)), key=lambda i: len(rendered[i]))
        out: list[dict[str, Any]] = [{}] * len(rendered)
        torch.manual_seed(seed)
        for start in tqdm(
            range(0, len(order), self.generate_batch_size),
            desc=f"generate {self.model_id}",
            disable=not self.progress,
            mininterval=2,
        ):
            idx = order[start : start + self.generate_batch_size]
            ids, mask = self._left_pad([rendered[i] for i in idx])  # every row continues from its end
            width = ids.shape[1]
            gen = self.model.generate(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                max_new_tokens=max_new_tokens,
                do_sample=temperature > 0,
                temperature=temperature if temperature > 0 else None,
                top_k=top_k if temperature > 0 else None,
                top_p=None,
                pad_token_id=self.pad_id,
            )
            for row, i in enumerate(idx):
                new = gen[row, width:].tolist()
                eos = self.tok.eos_token_id
                finished = eos in new
                if finished:
                    new = new[: new.index(eos)]
                out[i] = {
                    "text": self.tok.decode(new, skip_special_tokens=True).strip(),
                    "finish_reason": "stop" if finished else "length",
                }
        return out

    @torch.inference_mode()
    def continuation_logprobs(
        self, prompts: list[Messages], prefixes: list[str], continuations: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each prompt's own continuation: (sum of its token log-probs, its token count), shape (n,) each.

        The assistant's reply is `prefix + continuation`; only the continuation's tokens are scored, given the
        prompt and the prefix (a lead-in such as "My view:"). Prefix and continuation are tokenized apart, so
        the scored tokens are exactly the continuation's (as lm-evaluation-harness splits context and
        continuation). Rows with the same prompt and prefix (a pair's two statements) share one pass over it:
        the shared-prefix path of option_logprobs, with each head's own continuations (share_prefix=False: one
        full pass per row, the reference).
        """
        if not (len(prompts) == len(prefixes) == len(continuations)):
            raise ValueError("continuation_logprobs: prompts, prefixes and continuations differ in length")
        heads: dict[tuple[int, ...], list[int]] = {}  # head tokens -> rows continuing it
        tails: list[list[int]] = []
        for i, (m, pre, cont) in enumerate(zip(prompts, prefixes, continuations, strict=True)):
            head = self.render(m) + (self._encode_option(pre) if pre else [])
            tail = self._encode_option(cont)
            if not tail:
                raise ValueError(f"continuation_logprobs: empty continuation after {pre!r}")
            heads.setdefault(tuple(head), []).append(i)
            tails.append(tail)
        total = np.zeros(len(tails), dtype=np.float64)
        n_tok = np.array([len(t) for t in tails], dtype=np.float64)
        if not self.share_prefix:
            rows = [(head, i) for head, idx in heads.items() for i in idx]
            sums = self._span_logprobs(
                [list(h) + tails[i] for h, i in rows], [len(h) for h, _ in rows], f"score {self.model_id}"
            )
            for (_, i), v in zip(rows, sums, strict=True):
                total[i] = v
            return total, n_tok
        # every head continued by k rows, k = the commonest group size (a pair: 2); larger groups are split, short
        # ones repeat their last row (the repeat's score is dropped)
        k = Counter(len(idx) for idx in heads.values()).most_common(1)[0][0]
        groups = sorted(
            ((h, idx[j : j + k]) for h, idx in heads.items() for j in range(0, len(idx), k)),
            key=lambda kv: len(kv[0]),
        )
        opt_rows = [[tails[i] for i in idx] + [tails[idx[-1]]] * (k - len(idx)) for _, idx in groups]
        scored = self._shared_prefix([list(h) for h, _ in groups], opt_rows, np.zeros((len(groups), k)))
        for g, (_, idx) in enumerate(groups):
            for j, i in enumerate(idx):
                total[i] = scored[g, j]
        return total, n_tok

    @torch.inference_mode()
    def text_logprobs(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Plain text, no chat template: (sum of token log-probs, token count), shape (n,) each. Every token after
        the first is scored given those before it (the first has no context to be scored in)."""
        seqs = [self._encode_option(t) for t in texts]
        if any(len(s) < 2 for s in seqs):
            raise ValueError("text_logprobs: every text needs at least 2 tokens")
        total = self._span_logprobs(seqs, [1] * len(seqs), f"perplexity {self.model_id}")
        return total, np.array([len(s) - 1 for s in seqs], dtype=np.float64)
