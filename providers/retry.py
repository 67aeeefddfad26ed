"""The retry policy, and the one retrying driver every provider streams through.

Design rule 2: the token is request-local and every failure after it is set
is a cancellation — never retried, never announced as ``Retrying``. Genuine
failures with no cancel (connect errors, 5xx, 429, a stale stream, a drop
before the first content event) are retried with capped exponential backoff
and jitter; the backoff sleep is raced against the token. Once content has
been yielded nothing is replayed: a drop then is reported, and the caller
keeps the partial reply.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass

from .cancel import CancelToken
from .errors import NetworkError, ProviderError, RateLimitError, ServerError
from .events import Retrying, StreamEvent, TextDelta, ToolCall
from .race import CancelRace
from .streaming import TransportFailure

log = logging.getLogger(__name__)

Attempt = Callable[[CancelRace], AsyncGenerator[StreamEvent, None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Delays in seconds; ``jitter`` is the fraction of each
    backoff delay that is randomised away (0 = fixed delays)."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    jitter: float = 0.2
    connect_timeout_s: float = 10.0
    stale_timeout_s: float = 30.0  # no byte at all (headers included) for this long
    # A stream that went silent after its headers: detected sooner, and tried again only
    # once — a server that stalls once tends to stall again. Worst case: 2 × 20 s plus one
    # backoff, and the user is told at 20 s (it was 4 × 30 s = 124 s, told at 30 s).
    stall_timeout_s: float = 20.0
    max_stall_attempts: int = 2
    max_retry_after_s: float = 60.0

    def backoff_s(self, failed_attempt: int) -> float:
        """The delay after the ``failed_attempt``-th attempt (1-based) failed."""
        delay = min(self.max_delay_s, self.base_delay_s * 2.0 ** (failed_attempt - 1))
        return delay * (1 - self.jitter * random.random())

    def delay_s(self, error: ProviderError, failed_attempt: int, stalls: int = 0) -> float | None:
        """How long to wait before retrying ``error``, or None to give up. ``stalls``: how
        many attempts so far went silent after their headers (this one included)."""
        if not error.retryable or failed_attempt >= self.max_attempts:
            return None
        if stalls >= self.max_stall_attempts:
            return None
        if error.retry_after_s is not None:
            if error.retry_after_s > self.max_retry_after_s:
                return None
            return error.retry_after_s
        return self.backoff_s(failed_attempt)


async def retrying_stream(
    attempt: Attempt,
    policy: RetryPolicy,
    cancel: CancelToken,
    provider: str,
    redact: Callable[[str], str] = str,
) -> AsyncGenerator[StreamEvent, None]:
    """Run ``attempt`` (one HTTP request's events) until it completes, retrying
    genuine failures. ``redact`` scrubs secrets from what is logged."""
    race = CancelRace(cancel)
    try:
        failed = stalls = 0
        while True:
            race.check()
            content = False
            try:
                async with aclosing(attempt(race)) as events:
                    async for event in events:
                        race.check()
                        content = content or isinstance(event, TextDelta | ToolCall)
                        yield event
                return
            except Exception as exc:
                error = _classify(exc, race)
                if content and error.retryable:  # never replay a reply the user has seen
                    raise _mid_reply(error, provider) from exc
                failed += 1
                stalls += isinstance(error, TransportFailure) and error.body_stalled
                delay = policy.delay_s(error, failed, stalls)  # None for a cancel: never retried
                if delay is None:
                    if error is exc:
                        raise
                    raise error from exc
            reason = _short_reason(error)
            log.warning(
                "%s: attempt %d of %d failed (%s); retrying in %.2f s",
                provider,
                failed,
                policy.max_attempts,
                redact(error.message),
                delay,
            )
            race.check()
            attempts = policy.max_stall_attempts if stalls else policy.max_attempts
            yield Retrying(attempt=failed, max_attempts=attempts, delay_s=delay, reason=reason)
            await race.run(asyncio.sleep(delay))
    finally:
        race.close()


def _classify(exc: Exception, race: CancelRace) -> ProviderError:
    """After a cancel everything is the cancel; otherwise a typed error or a re-raise."""
    if race.token.cancelled:
        return race.cancelled_error()
    if isinstance(exc, ProviderError):
        return exc
    raise exc


def _short_reason(error: ProviderError) -> str:
    if isinstance(error, TransportFailure):
        return error.short
    if isinstance(error, RateLimitError):
        return "rate limited (429)"
    if isinstance(error, ServerError):
        return f"server error ({error.status})" if error.status else "server error"
    return error.kind.value.replace("_", " ")


def _mid_reply(error: ProviderError, provider: str) -> ProviderError:
    if isinstance(error, TransportFailure) and error.stalled:
        return NetworkError(
            f"{provider} stopped sending mid-reply ({error.short}); the partial reply was kept.",
            provider=provider,
        )
    if isinstance(error, NetworkError):
        return NetworkError(
            f"The connection to {provider} dropped mid-reply; the partial reply was kept.",
            provider=provider,
        )
    message = error.message if error.message.endswith((".", "!", "?")) else f"{error.message}."
    return type(error)(
        f"{message} The partial reply was kept.", provider=provider, status=error.status
    )
