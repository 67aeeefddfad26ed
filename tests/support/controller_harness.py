"""Builds an AgentController against a real ScriptedServer and records its events.

Tests take the ``controllers`` fixture and call it like ``make_controller``
without the server (``controller, log = controllers(transcriber=..., speech=...)``);
every controller it made is closed, and its HTTP client with it, when the test
ends, also when an assertion failed half-way (no task or socket leaks into the
next test). ``on_teardown`` adds more clean-up, run first (e.g. closing a
``LiveTranscription``).

The provider is the real one talking HTTP to the local server; the
transcriber is the real Whisper model (loaded once per session); speech output
is the real ``SpeechOutput`` with the fake output stream (no sound card here),
or turned off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pytest

from app.agent import events as ev
from app.agent.controller import AgentController
from app.agent.tools import ToolRegistry, build_default_registry
from providers import ProviderConfig, RetryPolicy, create_provider, new_http_client
from tests.support.sse_server import ScriptedServer

E = TypeVar("E", bound=ev.Event)


@dataclass
class EventLog:
    events: list[ev.Event] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, event: ev.Event) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def types(self) -> list[str]:
        return [e.type for e in self.events if not isinstance(e, ev.InputLevel | ev.StateChanged)]

    def index(self, kind: type[ev.Event], predicate: Callable[[Any], bool] = bool) -> int:
        for i, e in enumerate(self.events):
            if isinstance(e, kind) and predicate(e):
                return i
        raise AssertionError(f"no {kind.__name__} matching in {self.types()}")

    async def wait_for(
        self,
        kind: type[E],
        predicate: Callable[[E], bool] = lambda e: True,
        timeout_s: float = 10.0,
    ) -> E:
        async def seek() -> E:
            seen = 0
            while True:
                for e in self.events[seen:]:
                    if isinstance(e, kind) and predicate(e):
                        return e
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(seek(), timeout_s)
        except TimeoutError:
            raise AssertionError(
                f"no {kind.__name__} within {timeout_s} s: {self.types()}"
            ) from None


def make_controller(
    server: ScriptedServer,
    *,
    transcriber: Any,
    speech: Any,
    kind: str = "openai",
    tools: ToolRegistry | None = None,
    barge_in: bool = True,
    retry: RetryPolicy | None = None,
) -> tuple[AgentController, EventLog, Any]:
    log = EventLog()
    client = new_http_client()
    config = ProviderConfig(
        kind=kind,
        base_url=server.base_url(kind),
        model="test-model",
        api_key="sk-test-key-123456",
        api_version="2024-10-21" if kind == "azure" else None,
        retry=retry or RetryPolicy(base_delay_s=0.05, max_delay_s=0.2, stale_timeout_s=5),
    )
    controller = AgentController(
        provider=create_provider(config, client),
        model="test-model",
        transcriber=transcriber,
        speech=speech,
        tools=tools or build_default_registry(),
        emit=log,
        system_prompt="You are a test.",
        barge_in=barge_in,
    )
    return controller, log, client


class Controllers(Protocol):
    """The ``controllers`` fixture: ``make_controller`` on the test's server, closed for you."""

    def __call__(
        self,
        *,
        transcriber: Any,
        speech: Any,
        kind: str = "openai",
        tools: ToolRegistry | None = None,
        barge_in: bool = True,
        retry: RetryPolicy | None = None,
    ) -> tuple[AgentController, EventLog]: ...

    def on_teardown(self, cleanup: Callable[[], object]) -> None: ...


class _Controllers:
    def __init__(self, server: ScriptedServer) -> None:
        self._server = server
        self.made: list[tuple[AgentController, Any]] = []
        self.cleanups: list[Callable[[], object]] = []

    def __call__(self, **options: Any) -> tuple[AgentController, EventLog]:
        controller, log, client = make_controller(self._server, **options)
        self.made.append((controller, client))
        return controller, log

    def on_teardown(self, cleanup: Callable[[], object]) -> None:
        self.cleanups.append(cleanup)

    async def close(self) -> None:
        for cleanup in reversed(self.cleanups):
            result = cleanup()
            if asyncio.iscoroutine(result):
                await result
        for controller, client in reversed(self.made):
            await controller.close()
            await client.aclose()


@pytest.fixture
async def controllers(server: ScriptedServer) -> AsyncIterator[Controllers]:
    made = _Controllers(server)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
def quiet() -> object:
    """Speech output turned off (the --no-tts path): what is shown is what was heard."""
    from audio.playback import SpeechPlayer
    from audio.speech_output import SpeechOutput
    from audio.tts import PiperTts

    tts = PiperTts()
    return SpeechOutput(tts, SpeechPlayer(tts.sample_rate_hz), enabled=False)


# The real SpeechOutput (Piper, SpeechPlayer) on a fake sound card at 3x real time, whose
# events go to the controller ``wire_speaker`` connects: (output, card, forward).
Speaker = tuple[Any, Any, list[Callable[[str, int, str | None], None]]]


@pytest.fixture
def speaker(piper: Any) -> Iterator[Speaker]:
    """Speech output turned on; take it before ``controllers`` (closed after them)."""
    from audio.playback import SpeechPlayer
    from audio.speech_output import SpeechOutput
    from tests.support.fake_sounddevice import FakeSoundDevice

    card = FakeSoundDevice(speed=3.0)  # 3x real time keeps the tests short
    forward: list[Callable[[str, int, str | None], None]] = []
    output = SpeechOutput(
        piper,
        SpeechPlayer(piper.sample_rate_hz, sounddevice_module=card),
        on_event=lambda name, turn_id, detail: forward[0](name, turn_id, detail),
    )
    yield output, card, forward
    output.close()


def wire_speaker(
    controllers: Controllers, whisper: Any, speaker: Speaker, **options: Any
) -> tuple[AgentController, EventLog, Any]:
    """A controller speaking through ``speaker``: (controller, log, output)."""
    output, _card, forward = speaker
    controller, log = controllers(transcriber=whisper, speech=output, **options)
    forward.append(controller.speech_event)
    return controller, log, output
