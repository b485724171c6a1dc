"""Backend for any OpenAI-compatible chat-completions server: `vllm serve` on a cluster, llama.cpp's server,
hosted endpoints.

    b = OpenAIBackend("http://gpu-node:8000/v1", model="meta-llama/Meta-Llama-3-70B-Instruct", concurrency=64)
    replies = b.generate_json(prompts, schema=Judgement.model_json_schema(), max_tokens=48)

Bounded concurrency (a thread pool of `concurrency` requests in flight), a timeout per request, retries with
exponential backoff on connection errors, timeouts, HTTP 429 and 5xx; other HTTP errors fail that prompt at
once. `finish_reason` is returned so the caller can reject truncated output. The API key, if any, is read from
the environment variable named by `api_key_env` (never from params). Standard library only (urllib).

Several servers: `base_url` may be a list (several `vllm serve` replicas, or llama.cpp servers). Each server
has `concurrency` requests in flight, picked least-busy first among the live ones. A server whose request failed
(connection error, timeout, 429, 5xx) is out for a cooling-off time that doubles with each failure in a row
(`backoff_s`, at most `max_cooldown_s`) and back in after one success; the retry goes at once to another live
server, and waits only when every server is cooling off. A request fails after `max_retries` retries in all, so
with one server the behaviour is the plain retry with exponential backoff. `stats["servers"]` counts requests,
failures and cooling-offs per server (server_1, server_2, ... in the list's order). Where a reply came from
does not change it (greedy decoding of the same model), so the annotator's row cache is keyed by the model and
the prompt, not by the server list.
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


class _Server:
    """One endpoint and its health: requests in flight, failures in a row, and when it may be tried again."""

    def __init__(self, url: str):
        self.url = url.rstrip("/") + "/chat/completions"
        self.in_flight = 0
        self.failures_in_a_row = 0
        self.cool_until = 0.0
        self.stats: dict[str, Any] = {"url": url, "requests": 0, "failed": 0, "cooled_off": 0}


class OpenAIBackend:
    def __init__(
        self,
        base_url: str | list[str],
        model: str,
        concurrency: int = 8,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        api_key_env: str | None = "OPENAI_API_KEY",
        response_format: Literal["json_schema", "json_object"] = "json_schema",
        model_id: str | None = None,
        max_cooldown_s: float = 30.0,
    ):
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("openai backend: base_url lists no server")
        if len(set(urls)) < len(urls):
            raise ValueError(f"openai backend: base_url lists a server twice ({urls}); list each once")
        self.servers = [_Server(u) for u in urls]
        self.model = model
        self.model_id = model_id or model
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_cooldown_s = max_cooldown_s
        self.api_key = os.environ.get(api_key_env) if api_key_env else None
        self.response_format = response_format
        self.stats: dict[str, Any] = {"requests": 0, "retries": 0, "errors": 0, "failovers": 0}
        if len(self.servers) > 1:
            self.stats["servers"] = {f"server_{i + 1}": s.stats for i, s in enumerate(self.servers)}
        self._lock = threading.Lock()

    def _acquire(self, last: _Server | None) -> _Server:
        """The least busy live server (the one that just failed last among equals); if every server is cooling
        off, wait for the first to come back."""
        while True:
            with self._lock:
                now = time.monotonic()
                live = [s for s in self.servers if s.cool_until <= now]
                if live:
                    best = min(live, key=lambda s: (s is last, s.in_flight))
                    best.in_flight += 1
                    best.stats["requests"] += 1
                    self.stats["requests"] += 1
                    return best
                wait = min(s.cool_until for s in self.servers) - now
            time.sleep(max(wait, 0.001))

    def _release(self, server: _Server, ok: bool) -> None:
        with self._lock:
            server.in_flight -= 1
            if ok:
                server.failures_in_a_row = 0
                return
            server.stats["failed"] += 1
            server.failures_in_a_row += 1
            cool = min(self.backoff_s * 2 ** (server.failures_in_a_row - 1), self.max_cooldown_s)
            if server.cool_until < time.monotonic() + cool:
                server.cool_until = time.monotonic() + cool
                server.stats["cooled_off"] += 1

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

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            return json.loads(resp.read())

    def _one(self, messages: Messages, schema: dict, max_tokens: int) -> JsonReply:
        body = self._body(messages, schema, max_tokens)
        last, detail = "unknown", ""
        server: _Server | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._count("retries")
            previous = server
            server = self._acquire(previous)  # waits out a cooling-off only when no server is live
            if previous is not None and server is not previous:
                self._count("failovers")
            healthy = False  # the server answered like a server (an answer, or a client error)
            try:
                data = self._post(server.url, body)
                healthy = True
                choice = data["choices"][0]
                return {
                    "text": choice["message"].get("content"),
                    "finish_reason": choice.get("finish_reason"),
                    "error": None,
                }
            except urllib.error.HTTPError as e:
                last = f"http_{e.code}"
                if e.code not in RETRY_STATUS:
                    healthy = True
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
                healthy = True  # it answered; what it answered is the problem
                break
            finally:
                self._release(server, healthy)
        self._count("errors")
        log.warning(
            "openai backend: request failed after %d attempt(s): %s %s",
            attempt + 1,
            last,
            detail if last == "connection" else "",
        )
        return {"text": None, "finish_reason": None, "error": last}

    def generate_json(self, prompts: list[Messages], schema: dict, max_tokens: int) -> list[JsonReply]:
        with ThreadPoolExecutor(max_workers=self.concurrency * len(self.servers)) as pool:
            return list(pool.map(lambda m: self._one(m, schema, max_tokens), prompts))
