"""The OpenAI-compatible backend and the structured judgement against a local HTTP server that misbehaves on
purpose: retries with backoff, invalid JSON, out-of-range values, truncated output and dead endpoints are each
retried, then quarantined with their reason; nothing is defaulted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from politune.annotate import judge_posts
from politune.llm.openai_backend import OpenAIBackend

SEEN: list[dict] = []
FLAKY_CALLS = {"n": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SEEN.append(body)
        post = body["messages"][-1]["content"]
        content, finish = '{"relevance": 7, "leaning": -3}', "stop"
        if "FLAKY" in post:
            FLAKY_CALLS["n"] += 1
            if FLAKY_CALLS["n"] < 3:
                return self._send(500, {"error": "overloaded"})
        elif "DEAD" in post:
            return self._send(503, {"error": "down"})
        elif "BADJSON" in post:
            content = "The author is a liberal."
        elif "RANGE" in post:
            content = '{"relevance": 12, "leaning": 0}'
        elif "CUT" in post:
            content, finish = '{"relevance": 7, "lea', "length"
        elif "EXTRA" in post:
            content = '{"relevance": 3, "leaning": 1, "note": "hi"}'
        self._send(
            200,
            {"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": finish}]},
        )

    def _send(self, code: int, obj: dict) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


def test_failures_are_retried_then_quarantined_with_reasons(server: str) -> None:
    SEEN.clear()
    FLAKY_CALLS["n"] = 0
    b = OpenAIBackend(server, model="m", concurrency=4, max_retries=3, backoff_s=0.01, api_key_env=None)
    posts = [
        {"text": t}
        for t in (
            "Tax the rich.",
            "FLAKY post",
            "DEAD post",
            "BADJSON post",
            "RANGE post",
            "CUT post",
            "EXTRA post",
        )
    ]
    out = judge_posts(b, posts, max_chars=600, max_tokens=48, max_attempts=2)
    assert out[0] == {
        "p_offtopic": pytest.approx(0.3),
        "p_left": pytest.approx(0.56),
        "p_right": pytest.approx(0.14),
        "relevance": 0.7,
        "leaning": -0.6,
    }
    assert out[1]["relevance"] == 0.7  # two HTTP 500s, then an answer: retried inside the backend
    assert out[2] == {"error": "http_503", "attempts": 2}
    assert out[3]["error"] == "invalid_json" and out[4]["error"] == "out_of_range"
    assert out[5]["error"] == "truncated" and out[6]["error"] == "schema_mismatch"
    cut = [s for s in SEEN if "CUT" in s["messages"][-1]["content"]]
    assert [s["max_tokens"] for s in cut] == [48, 96]  # a truncated reply is retried with twice the tokens
    assert b.stats["retries"] >= 2 + 2 * 3  # FLAKY twice; DEAD 3 retries in each of 2 attempts
    sent = SEEN[0]
    assert sent["temperature"] == 0.0 and sent["response_format"]["type"] == "json_schema"
    assert "<post>" in sent["messages"][0]["content"]


def test_unreachable_server_is_an_error_not_a_default() -> None:
    b = OpenAIBackend(
        "http://127.0.0.1:9/v1", model="m", max_retries=1, backoff_s=0.01, timeout_s=2, api_key_env=None
    )
    out = judge_posts(b, [{"text": "anything"}], max_chars=600, max_tokens=48, max_attempts=1)
    assert out[0]["error"].startswith("connection")


class Replica(BaseHTTPRequestHandler):
    """A replica that answers every post with its own name in `leaning`'s place, until it 'dies' after
    `server.alive_for` requests: from then on it drops each connection without a reply."""

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def do_POST(self) -> None:  # noqa: N802
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with srv.lock:  # type: ignore[attr-defined]
            srv.seen += 1  # type: ignore[attr-defined]
            dead = srv.seen > srv.alive_for  # type: ignore[attr-defined]
        if dead:
            self.close_connection = True
            self.connection.shutdown(2)  # the client sees the connection dropped, as from a killed server
            return
        srv.answered.append(body["messages"][-1]["content"])  # type: ignore[attr-defined]
        data = json.dumps(
            {"choices": [{"message": {"content": '{"relevance": 7, "leaning": 1}'}, "finish_reason": "stop"}]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def replicas() -> Iterator[list[ThreadingHTTPServer]]:
    servers = []
    for alive_for in (10**9, 5):  # the second replica dies after 5 requests
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Replica)
        srv.lock, srv.seen, srv.alive_for, srv.answered = threading.Lock(), 0, alive_for, []  # type: ignore[attr-defined]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    yield servers
    for srv in servers:
        srv.shutdown()


def test_requests_spread_over_servers_and_move_off_a_dead_one(replicas: list[ThreadingHTTPServer]) -> None:
    urls = [f"http://127.0.0.1:{s.server_address[1]}/v1" for s in replicas]
    b = OpenAIBackend(urls, model="m", concurrency=2, max_retries=3, backoff_s=0.05, api_key_env=None)
    posts = [{"text": f"post number {i} about taxes"} for i in range(40)]
    out = judge_posts(b, posts, max_chars=600, max_tokens=48, max_attempts=1)
    assert all("error" not in o for o in out), [o for o in out if "error" in o]
    answered = replicas[0].answered + replicas[1].answered  # type: ignore[attr-defined]
    assert sorted(answered) == sorted({a for a in answered})  # every post answered once: none twice
    assert len(answered) == 40
    assert len(replicas[1].answered) == 5  # type: ignore[attr-defined]  # it served until it died
    per = {s["url"]: s for s in b.stats["servers"].values()}
    assert per[urls[1]]["failed"] >= 1 and per[urls[1]]["cooled_off"] >= 1 and per[urls[0]]["failed"] == 0
    assert b.stats["failovers"] >= 1 and b.stats["errors"] == 0
    # the dead one was tried again after cooling off, not after every request: far fewer tries than posts
    assert per[urls[1]]["requests"] < 5 + 10


def test_when_every_server_is_down_each_request_fails_with_the_reason() -> None:
    b = OpenAIBackend(
        ["http://127.0.0.1:9/v1", "http://127.0.0.1:1/v1"],
        model="m",
        max_retries=2,
        backoff_s=0.01,
        timeout_s=2,
        api_key_env=None,
    )
    out = judge_posts(b, [{"text": "a"}, {"text": "b"}], max_chars=600, max_tokens=48, max_attempts=1)
    assert [o["error"].split(":")[0] for o in out] == ["connection", "connection"]
    assert b.stats["errors"] == 2 and b.stats["retries"] == 4
