"""Backend for any OpenAI-compatible chat-completions server: `vllm serve` on a cluster, llama.cpp's server,
hosted endpoints.

    b = OpenAIBackend("http://gpu-node:8000/v1", model="meta-llama/Meta-Llama-3-70B-Instruct", concurrency=64)
    replies = b.generate_json(prompts, schema=Judgement.model_json_schema(), max_tokens=48)

Bounded concurrency (a thread pool of `concurrency` requests in flight), a timeout per request, retries with
exponential backoff on connection errors, timeouts, HTTP 429 and 5xx; other HTTP errors fail that prompt at
once. `finish_reason` is returned so the caller can reject truncated output. The API key, if any, is read from
the environment variable named by `api_key_env` (never from params). Standard library only (urllib).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from politune.llm.base import JsonReply, Messages

log = logging.getLogger(__name__)
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend:
    def __init__(
        self,
        base_url: str,
        model: str,
        concurrency: int = 8,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        api_key_env: str | None = "OPENAI_API_KEY",
        response_format: Literal["json_schema", "json_object"] = "json_schema",
        model_id: str | None = None,
    ):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.model_id = model_id or model
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.api_key = os.environ.get(api_key_env) if api_key_env else None
        self.response_format = response_format
        self.stats = {"requests": 0, "retries": 0, "errors": 0}
        self._lock = threading.Lock()

    def _count(self, key: str) -> None:
        with self._lock:  # requests run in a thread pool
            self.stats[key] += 1

    def _body(self, messages: Messages, schema: dict, max_tokens: int) -> dict[str, Any]:
        if self.response_format == "json_schema":
            fmt: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": schema, "strict": True},
            }
        else:  # llama.cpp's server: JSON mode constrained by a schema
            fmt = {"type": "json_object", "schema": schema}
        return {
            "model": self.model,
            "messages": messages,
            "temperature": 0.0,
            "max_tokens": max_tokens,
            "response_format": fmt,
        }

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            return json.loads(resp.read())

    def _one(self, messages: Messages, schema: dict, max_tokens: int) -> JsonReply:
        body = self._body(messages, schema, max_tokens)
        last, detail = "unknown", ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._count("retries")
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            self._count("requests")
            try:
                data = self._post(body)
                choice = data["choices"][0]
                return {
                    "text": choice["message"].get("content"),
                    "finish_reason": choice.get("finish_reason"),
                    "error": None,
                }
            except urllib.error.HTTPError as e:
                last = f"http_{e.code}"
                if e.code not in RETRY_STATUS:
                    break
            except (
                urllib.error.URLError,
                TimeoutError,
                ConnectionError,
                http.client.HTTPException,
                OSError,
            ) as e:
                last, detail = "connection", f"{type(e).__name__}: {getattr(e, 'reason', e)}"
            except (
                KeyError,
                IndexError,
                TypeError,
                ValueError,
            ):  # ValueError covers JSON and Unicode decoding
                last = "malformed_response"  # not an OpenAI-style body: retrying the same server rarely helps
                break
        self._count("errors")
        log.warning(
            "openai backend: request failed after %d attempt(s): %s %s",
            attempt + 1,
            last,
            detail if last == "connection" else "",
        )
        return {"text": None, "finish_reason": None, "error": last}

    def generate_json(self, prompts: list[Messages], schema: dict, max_tokens: int) -> list[JsonReply]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda m: self._one(m, schema, max_tokens), prompts))
