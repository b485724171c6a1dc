"""A local OpenAI-compatible server for a GGUF file: llama-cpp-python's server, started on a free port.

    with llama_server(embedded_gguf("smollm2-135m")) as url:      # url = http://127.0.0.1:<port>/v1
        OpenAIBackend(url, model="smollm2", response_format="json_object")

    with llama_server_process(gguf) as (url, proc):                # the process too, to kill it on purpose

Used by the openai backend's tests and its benchmark; needs `pip install "llama-cpp-python[server]"`.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def llama_server(gguf: str | Path, n_ctx: int = 2048, startup_s: float = 60.0) -> Iterator[str]:
    with llama_server_process(gguf, n_ctx, startup_s) as (url, _):
        yield url


@contextlib.contextmanager
def llama_server_process(
    gguf: str | Path, n_ctx: int = 2048, startup_s: float = 60.0, threads: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The server's URL and its process; stopped (if still running) on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(n_ctx),
            *(["--n_threads", str(threads)] if threads else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + startup_s
        while True:
            try:
                urllib.request.urlopen(url + "/models", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(
                        f"llama_cpp.server for {gguf} did not start (exit code {proc.poll()})"
                    ) from None
                time.sleep(0.5)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
