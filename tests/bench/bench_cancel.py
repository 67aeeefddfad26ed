"""How fast a cancel closes the connection: provider layer vs a bare httpx stream.

200 streams each (interleaved, same server, same shared client), each
cancelled at a random point; the figure is the time from the cancel call to
the moment the server notices the client hang up. The baseline is a bare
``client.stream`` + ``aiter_bytes`` task, closed by cancelling its task.

Run: ``.venv/bin/python -m tests.bench.bench_cancel [--streams N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx

from providers import (
    CancelToken,
    ChatRequest,
    ProviderConfig,
    StreamCancelled,
    UserMessage,
    create_provider,
    new_http_client,
)
from providers.base import Provider
from tests.support.sse_server import ScriptedServer, Send, Step, sse_reply

REQUEST = ChatRequest(model="bench", messages=[UserMessage("tell me a long story")])
GOAL_P95_MS = 20.0
GOAL_RATIO = 1.5


def script(rng: random.Random) -> list[Step]:
    """A long reply: tokens every 1-3 ms, now and then a 20-40 ms pause (no bytes)."""
    steps: list[Step] = []
    for i in range(600):
        pause = rng.uniform(0.02, 0.04) if rng.random() < 0.05 else rng.uniform(0.001, 0.003)
        chunk = {"choices": [{"index": 0, "delta": {"content": f"tok{i} "}}]}
        steps.append(Send(f"data: {json.dumps(chunk)}\n\n".encode(), pause))
    return steps


async def provider_run(chat: Provider, delay_s: float) -> float:
    token = CancelToken()
    cancelled_at = 0.0

    def cancel() -> None:
        nonlocal cancelled_at
        cancelled_at = time.perf_counter()
        token.cancel("bench")

    async def consume() -> None:
        async for _ in chat.stream(REQUEST, token):
            pass

    task = asyncio.create_task(consume())
    handle = asyncio.get_running_loop().call_later(delay_s, cancel)
    try:
        await task
    except StreamCancelled:
        pass
    finally:
        handle.cancel()
    return cancelled_at


async def bare_run(client: httpx.AsyncClient, url: str, delay_s: float) -> float:
    cancelled_at = 0.0

    async def consume() -> None:
        body = {"model": "bench", "stream": True, "messages": [{"role": "user", "content": "x"}]}
        async with client.stream("POST", url, json=body) as response:
            async for _ in response.aiter_bytes():
                pass

    task = asyncio.create_task(consume())

    def cancel() -> None:
        nonlocal cancelled_at
        cancelled_at = time.perf_counter()
        task.cancel()

    handle = asyncio.get_running_loop().call_later(delay_s, cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        handle.cancel()
    return cancelled_at


async def measure(
    server: ScriptedServer,
    run: Callable[[float], Awaitable[float]],
    delay_s: float,
    steps: list[Step],
) -> float:
    server.add(sse_reply(steps))
    cancelled_at = await run(delay_s)
    if cancelled_at == 0.0:
        raise RuntimeError("the stream ended before the cancel: make the script longer")
    disconnected_at = await asyncio.to_thread(server.wait_for_disconnect, 5.0)
    return (disconnected_at - cancelled_at) * 1000


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (1-99), interpolated."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def main(streams: int, seed: int) -> None:
    rng = random.Random(seed)
    with ScriptedServer() as server:
        async with new_http_client() as client:
            config = ProviderConfig("openai", server.base_url("openai"), "bench")
            chat = create_provider(config, client)
            url = f"{server.base_url('openai')}/chat/completions"
            ours: list[float] = []
            bare: list[float] = []
            for _ in range(streams):
                steps = script(rng)
                delay_s = rng.uniform(0.002, 0.08)
                pair = [
                    (ours, lambda d: provider_run(chat, d)),
                    (bare, lambda d: bare_run(client, url, d)),
                ]
                rng.shuffle(pair)  # neither side always goes first
                for sink, run in pair:
                    sink.append(await measure(server, run, delay_s, steps))
    report(ours, bare, streams)


def report(ours: list[float], bare: list[float], streams: int) -> None:
    p50, p95 = percentile(ours, 50), percentile(ours, 95)
    b50, b95 = percentile(bare, 50), percentile(bare, 95)
    ok = p95 < GOAL_P95_MS and p95 <= GOAL_RATIO * b95
    print(f"bench_cancel: {streams} streams each, cancelled at a random point (2-80 ms in)")
    print("cancel -> server-observed disconnect")
    print(f"  provider layer : p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   max {max(ours):6.2f} ms")
    print(f"  bare httpx     : p50 {b50:6.2f} ms   p95 {b95:6.2f} ms   max {max(bare):6.2f} ms")
    print(f"  ratio (provider / bare): p50 {p50 / b50:.2f}x   p95 {p95 / b95:.2f}x")
    verdict = "PASS" if ok else "FAIL"
    print(f"goal: p95 < {GOAL_P95_MS:g} ms and within {GOAL_RATIO:g}x of bare httpx: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.streams, args.seed))
