"""Backend for vLLM's offline engine on one GPU node: batched generation constrained by a JSON schema.

    b = VLLMBackend("models/base/llama3-70b", tensor_parallel_size=8, max_model_len=4096)
    replies = b.generate_json(prompts, schema=Judgement.model_json_schema(), max_tokens=48)

Structured output goes through `SamplingParams(structured_outputs=StructuredOutputsParams(json=schema))` (the
old `guided_*` fields were removed in vLLM 0.12). A prompt longer than `max_model_len` would abort the whole
batch, so every user message is cut, in tokens, to fit `max_model_len - max_tokens` with the chat template
around it, and the number cut is counted in `stats["truncated"]`. Needs a CUDA GPU and `pip install vllm`
(the `gpu` extra); imported only when this backend is selected.
"""

from __future__ import annotations

import logging
from typing import Any

from politune.llm.base import JsonReply, Messages
from politune.llm.transformers_backend import render_chat

log = logging.getLogger(__name__)


class VLLMBackend:
    def __init__(
        self,
        model_path: str,
        tensor_parallel_size: int = 1,
        pipeline_parallel_size: int = 1,
        max_model_len: int = 4096,
        gpu_memory_utilization: float = 0.9,
        dtype: str = "bfloat16",
        model_id: str | None = None,
    ):
        try:
            from vllm import LLM
        except ImportError as e:
            raise ImportError(
                "annotate.backend vllm needs vLLM and a CUDA GPU: pip install -e '.[gpu]' "
                "(or use annotate.backend openai against a `vllm serve` endpoint)"
            ) from e
        self.llm = LLM(
            model=model_path,
            tensor_parallel_size=tensor_parallel_size,
            pipeline_parallel_size=pipeline_parallel_size,
            max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization,
            dtype=dtype,
            trust_remote_code=False,
        )
        self.tok = self.llm.get_tokenizer()
        self.max_model_len = max_model_len
        self.model_id = model_id or model_path
        self.stats = {"truncated": 0}

    def _fit(self, messages: Messages, budget: int) -> Messages:
        """Cut the post inside the last user message until the rendered prompt fits `budget` tokens."""

        def length(m: Messages) -> int:
            return len(render_chat(self.tok, m))

        over = length(messages) - budget
        if over <= 0:
            return messages
        self.stats["truncated"] += 1
        last = messages[-1]
        text = last["content"]
        # cut the untrusted post between its tags, so the instructions after it survive
        start, end = text.find("<post>\n"), text.find("\n</post>")
        if start < 0 or end < start:
            start, end = -len("<post>\n"), len(text)
        head, body, tail = text[: start + len("<post>\n")], text[start + len("<post>\n") : end], text[end:]
        ids = self.tok.encode(body, add_special_tokens=False)
        keep = max(len(ids) - over - 8, 0)  # 8 tokens of slack for merges at the cut
        return [*messages[:-1], {**last, "content": head + self.tok.decode(ids[:keep]) + tail}]

    def generate_json(self, prompts: list[Messages], schema: dict, max_tokens: int) -> list[JsonReply]:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        params = SamplingParams(
            temperature=0.0, max_tokens=max_tokens, structured_outputs=StructuredOutputsParams(json=schema)
        )
        fitted = [self._fit(m, self.max_model_len - max_tokens) for m in prompts]
        outs: list[Any] = self.llm.chat(fitted, params, use_tqdm=True)
        return [
            {"text": o.outputs[0].text, "finish_reason": o.outputs[0].finish_reason, "error": None}
            for o in outs
        ]
