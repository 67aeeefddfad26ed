"""In-process llama.cpp vs the same GGUF behind ``llama_cpp.server``, in the same run.

Both sides run Gemma 3 270M Q4_K_M (the test model) with the same chat format,
context and thread count; runs alternate which side goes first, each run uses
a fresh prompt for both, and figures are medians:

- time to first token (stream start → first text delta) and tokens per second
  (deltas after the first / time from the first to the last), in-process through
  ``LocalProvider`` vs the server through the OpenAI-compatible provider;
- cancel → generation stopped (the worker has left the model) and the number of
  tokens llama.cpp evaluated after the cancel, in-process;
- the next turn's time to first token right after a cancel, on both sides (the
  server has to notice the dropped connection before the next request runs).

Needs the ``local`` extra and the server's dependencies:
``pip install 'llama-cpp-python[server]'`` (already-built llama-cpp-python is kept).
Run: ``.venv/bin/python -m tests.bench.bench_local_llm [--runs 7]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from providers import (
    CancelToken,
    ChatRequest,
    LocalModelConfig,
    LocalModelSource,
    LocalProvider,
    ProviderConfig,
    StreamCancelled,
    TextDelta,
    UserMessage,
    create_provider,
    new_http_client,
)
from providers.base import Provider
from tests.support.local_llm import gemma_gguf

CHAT_FORMAT = "gemma"
CONTEXT = 1024
THREADS = 2
REPLY_TOKENS = 64


def request(run: int, max_tokens: int = REPLY_TOKENS) -> ChatRequest:
    text = f"Run {run}. Write a long story about a lighthouse keeper."
    return ChatRequest(model="gemma", messages=[UserMessage(text)], max_tokens=max_tokens)


async def timed_stream(provider: Provider, req: ChatRequest) -> tuple[float, float, int]:
    """(time to first token s, tokens/s after the first, deltas)."""
    start = time.perf_counter()
    stamps: list[float] = []
    async for event in provider.stream(req, CancelToken()):
        if isinstance(event, TextDelta):
            stamps.append(time.perf_counter())
    if len(stamps) < 2:
        raise RuntimeError(f"{provider.name} produced {len(stamps)} deltas")
    return stamps[0] - start, (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps)


class EvalCounter:
    """Records when llama.cpp starts each evaluation on the in-process model."""

    def __init__(self, llama: Any) -> None:
        self.starts: list[float] = []
        original = llama.eval

        def counting(tokens: Any) -> Any:
            self.starts.append(time.perf_counter())
            return original(tokens)

        llama.eval = counting


async def cancel_mid_reply(provider: Provider, req: ChatRequest, after_deltas: int = 5) -> float:
    """Stream, cancel after a few deltas; returns when the cancel was called."""
    token = CancelToken()
    seen = 0
    cancelled_at = 0.0
    stream: AsyncIterator[Any] = provider.stream(req, token)
    try:
        async for event in stream:
            if isinstance(event, TextDelta):
                seen += 1
                if seen == after_deltas:
                    cancelled_at = time.perf_counter()
                    token.cancel("bench")
    except StreamCancelled:
        pass
    return cancelled_at


async def local_cancel(
    provider: LocalProvider, counter: EvalCounter, run: int
) -> tuple[float, int, float]:
    """(cancel → generation stopped s, tokens evaluated after the cancel, next-turn TTFT s)."""
    model = await provider.source.get()
    cancelled_at = await cancel_mid_reply(provider, request(run, 400))
    acquired = await asyncio.to_thread(model.lock.acquire, True, 30)
    stopped_at = time.perf_counter()
    if not acquired:
        raise RuntimeError("generation did not stop within 30 s")
    model.lock.release()
    after = sum(1 for t in counter.starts if t > cancelled_at)
    # The stop time is when the lock came back, seen from a thread: an upper bound.
    next_ttft, _, _ = await timed_stream(provider, request(run + 1000, 8))
    return stopped_at - cancelled_at, after, next_ttft


async def server_cancel(provider: Provider, run: int) -> float:
    """Next-turn TTFT right after cancelling a reply on the server."""
    await cancel_mid_reply(provider, request(run, 400))
    ttft, _, _ = await timed_stream(provider, request(run + 1000, 8))
    return ttft


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    args = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gemma_gguf()),
        "--chat_format", CHAT_FORMAT, "--n_ctx", str(CONTEXT), "--n_threads", str(THREADS),
        "--n_threads_batch", str(THREADS), "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_for_server(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
            try:
                if (await client.get(f"{base_url}/models", timeout=1)).is_success:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("llama_cpp.server did not start within 60 s")


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms"


async def main(runs: int) -> None:
    config = LocalModelConfig(
        str(gemma_gguf()), chat_format=CHAT_FORMAT, context_length=CONTEXT, threads=THREADS
    )
    source = LocalModelSource(config)
    local = LocalProvider(source)
    port = free_port()
    server = start_server(port)
    client = new_http_client()
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        await asyncio.gather(source.get(), wait_for_server(base_url, server))
        remote = create_provider(
            ProviderConfig(kind="openai", base_url=base_url, model="gemma", display_name="server"),
            client,
        )
        counter = EvalCounter((await source.get()).llama)
        for warm in (local, remote):  # first-call allocations, page cache
            await timed_stream(warm, request(-1, 8))
        ttft: dict[str, list[float]] = {"in-process": [], "server": []}
        rate: dict[str, list[float]] = {"in-process": [], "server": []}
        stop_s: list[float] = []
        after: list[int] = []
        next_ttft: dict[str, list[float]] = {"in-process": [], "server": []}
        for run in range(runs):
            sides: list[tuple[str, Provider]] = [("in-process", local), ("server", remote)]
            for name, provider in sides if run % 2 == 0 else sides[::-1]:
                first, per_s, _ = await timed_stream(provider, request(run))
                ttft[name].append(first)
                rate[name].append(per_s)
            stopped, evaluated, next_first = await local_cancel(local, counter, run)
            stop_s.append(stopped)
            after.append(evaluated)
            next_ttft["in-process"].append(next_first)
            next_ttft["server"].append(await server_cancel(remote, run))
    finally:
        await client.aclose()
        server.terminate()
        server.wait(10)
        source.close()

    print(f"Gemma 3 270M Q4_K_M, {THREADS} threads, n_ctx {CONTEXT}, {runs} runs, medians")
    print(f"{'':34}{'in-process':>12}{'server':>12}{'ratio':>8}")
    for label, values, unit in (
        ("time to first token", ttft, "ms"),
        ("tokens per second", rate, "tok/s"),
        ("next-turn TTFT after a cancel", next_ttft, "ms"),
    ):
        a, b = statistics.median(values["in-process"]), statistics.median(values["server"])
        if unit == "ms":
            print(f"{label:34}{a * 1000:9.1f} ms{b * 1000:9.1f} ms{a / b:8.2f}")
        else:
            print(f"{label:34}{a:6.1f} {unit}{b:6.1f} {unit}{a / b:8.2f}")
    stop_line = f"{ms(stop_s)}   (in-process; max {max(stop_s) * 1000:.1f} ms)"
    print(f"{'cancel → generation stopped':34}{stop_line}")
    after_line = f"{statistics.median(after):9.0f}      (max {max(after)})"
    print(f"{'tokens evaluated after the cancel':34}{after_line}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    if importlib.util.find_spec("llama_cpp") is None:
        sys.exit("needs the local extra: see README → Local model")
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        sys.exit("needs llama_cpp.server's dependencies: pip install 'llama-cpp-python[server]'")
    asyncio.run(main(parser.parse_args().runs))
