"""One agent turn: stream the reply, run tools, loop until the model answers.

A turn owns its ``CancelToken``. Everything it publishes goes through
``TurnRunner.emit``, which drops events once the token is cancelled: a
cancelled turn says nothing more (design rule 2). Recording an interrupted
reply is the controller's job, since only it knows who interrupted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field

from app.agent import events as ev
from app.agent.conversation import TOOL_CANCELLED, Conversation
from app.agent.early_request import EarlyRequest
from app.agent.ports import SpeechPort
from app.agent.tools import ToolContext, ToolRegistry
from audio.text_norm import words as text_words
from providers.base import Provider
from providers.cancel import CancelToken
from providers.errors import ProviderError, StreamCancelled
from providers.events import ChatRequest, Message, Retrying, StreamEvent, TextDelta, ToolCall

log = logging.getLogger(__name__)


@dataclass
class Turn:
    id: int
    text: str
    source: str  # "voice" | "text"
    token: CancelToken = field(default_factory=CancelToken)
    task: asyncio.Task[None] | None = None
    shown: str = ""  # every reply character published so far
    recorded_chars: int = 0  # how much of ``shown`` is already in history
    first_token_at: float | None = None
    first_audio_at: float | None = None
    unanswered: list[ToolCall] = field(default_factory=list)
    speech_end_at: float | None = None  # monotonic: end of the user's speech
    transcript_at: float | None = None
    utterance_id: int | None = None  # the utterance a voice turn was spoken as
    speak_after: float | None = None  # monotonic: its reply is not heard before (hands-free)
    history_start: int = 0  # len(conversation) when the turn started
    early: EarlyRequest | None = None  # its first request, sent early, not yet taken


@dataclass
class TurnSettings:
    model: str
    system_prompt: str | None = None
    max_tool_rounds: int = 5
    permissions: frozenset[str] = frozenset()


class TurnRunner:
    """Runs turns against a provider; one instance per controller."""

    def __init__(
        self,
        *,
        provider: Provider,
        settings: TurnSettings,
        conversation: Conversation,
        speech: SpeechPort,
        tools: ToolRegistry,
        emit: Callable[[ev.Event], None],
        tool_context: Callable[[CancelToken], ToolContext],
        on_first_token: Callable[[Turn], None],
    ) -> None:
        self.provider = provider
        self.settings = settings
        self.conversation = conversation
        self.speech = speech
        self.tools = tools
        self._emit = emit
        self._tool_context = tool_context
        self._on_first_token = on_first_token
        self._early: EarlyRequest | None = None

    # -- a request sent before its turn (app.agent.early_request) ---------------------------

    def request_for(self, messages: list[Message], *, offer_tools: bool = True) -> ChatRequest:
        """The request a round sends for ``messages`` (one place, so an early one matches)."""
        settings = self.settings
        return ChatRequest(
            model=settings.model,
            messages=messages,
            system=settings.system_prompt,
            tools=self.tools.specs(settings.permissions) if offer_tools else (),
        )

    def send_early(self, messages: list[Message], utterance_id: int, text: str) -> EarlyRequest:
        """Send the first round's request for ``messages`` (ending with the user's ``text``)
        now; the next turn that sends exactly this request takes its stream over. Replaces
        any earlier one."""
        self.drop_early("a newer early request")
        request = self.request_for(messages)
        early = self._early = EarlyRequest(self.provider, request, utterance_id, text)
        return early

    def early_wording(self, utterance_id: int, text: str) -> str:
        """``text`` as the early request for this utterance worded it, when the words are
        the same (case and punctuation aside); else ``text``."""
        early = self._early
        if early is None or early.cancelled or early.utterance_id != utterance_id:
            return text
        return early.text if text_words(early.text) == text_words(text) else text

    def drop_early(self, reason: str) -> None:
        early, self._early = self._early, None
        if early is not None:
            early.cancel(reason)

    @property
    def early(self) -> EarlyRequest | None:
        return self._early

    async def close(self) -> None:
        early, self._early = self._early, None
        if early is not None:
            await early.aclose()

    def _stream(self, turn: Turn, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """The round's stream: the early request's, taken at ``begin``, when it is exactly
        this request (the first round's, unless the history changed since)."""
        early, turn.early = turn.early, None
        if early is not None and early.request == request and not early.cancelled:
            return early.events()
        if early is not None:
            early.cancel("the history changed before the turn's first request")
        return self.provider.stream(request, turn.token)

    def begin(self, turn: Turn) -> None:
        """Record the user's message as the turn starts, before its task first runs: a
        turn interrupted at once (typed twice in a row) must still leave it in history,
        ahead of the interrupted reply (user/assistant alternation)."""
        self.conversation.add_user(turn.text, voice=turn.source == "voice")
        early, self._early = self._early, None
        if early is None or early.cancelled:
            return
        same_request = early.request == self.request_for(self.conversation.messages)
        if same_request and early.provider is self.provider:
            turn.early = early
            early.follow(turn.token)
        else:
            early.cancel("the turn sends another request (other words or history)")

    def emit(self, turn: Turn, event: ev.Event) -> None:
        if not turn.token.cancelled:
            self._emit(event)

    async def run(self, turn: Turn) -> None:
        """The whole turn, after :meth:`begin` and ``speech.begin`` (the scheduler's, so that
        a hold or a pause applies from the reply's first sound). Raises nothing but
        ``asyncio.CancelledError``."""
        try:
            await self._rounds(turn)
            if turn.token.cancelled:
                return
            self.speech.finish()
            await self.speech.wait_done()
            if turn.token.cancelled:
                return
            final = turn.shown[turn.recorded_chars :]
            self.conversation.add_assistant(final)
            turn.recorded_chars = len(turn.shown)
            self.emit(turn, ev.TurnFinished(turn_id=turn.id, text=turn.shown))
        except StreamCancelled:
            if not turn.token.cancelled:  # a cancel we did not ask for: report, never hide
                self._fail(turn, "cancelled", "The reply was cancelled.")
        except ProviderError as exc:
            if not turn.token.cancelled:
                self._fail(turn, exc.kind.value, exc.message)

    def _fail(self, turn: Turn, kind: str, message: str) -> None:
        self.speech.finish()
        partial = turn.shown[turn.recorded_chars :]
        for call in turn.unanswered:
            self.conversation.add_tool_result(call, TOOL_CANCELLED, is_error=True)
        turn.unanswered.clear()
        # Always an assistant message, even an empty one: the next user message must not
        # follow this turn's without a reply between them.
        prefix = f"{partial} … " if partial.strip() else ""
        self.conversation.add_assistant(f"{prefix}[reply failed: {message}]", failed=True)
        turn.recorded_chars = len(turn.shown)
        failed = ev.TurnFailed(turn_id=turn.id, kind=kind, message=message, partial_text=turn.shown)
        self.emit(turn, failed)

    async def _rounds(self, turn: Turn) -> None:
        rounds = self.settings.max_tool_rounds
        for round_no in range(rounds + 1):
            request = self.request_for(self.conversation.messages, offer_tools=round_no < rounds)
            calls: list[ToolCall] = []
            round_start = len(turn.shown)
            async with aclosing(self._stream(turn, request)) as stream:
                async for event in stream:
                    if turn.token.cancelled:
                        return
                    self._handle(turn, event, calls)
            if not calls or turn.token.cancelled:
                return
            self.conversation.add_assistant(turn.shown[round_start:], tuple(calls))
            turn.recorded_chars = len(turn.shown)
            turn.unanswered = list(calls)
            await self._run_tools(turn, calls)

    def _handle(self, turn: Turn, event: object, calls: list[ToolCall]) -> None:
        if isinstance(event, TextDelta) and event.text:
            if turn.first_token_at is None:
                turn.first_token_at = time.monotonic()
                self.emit(turn, ev.FirstToken(turn_id=turn.id))
                self._on_first_token(turn)
            turn.shown += event.text
            self.emit(turn, ev.ReplyDelta(turn_id=turn.id, text=event.text))
            self.speech.feed(event.text)
        elif isinstance(event, ToolCall):
            calls.append(event)
        elif isinstance(event, Retrying):
            self.emit(turn, ev.Status(text=_retry_status(self.provider.name, event)))

    async def _run_tools(self, turn: Turn, calls: list[ToolCall]) -> None:
        context = self._tool_context(turn.token)
        for call in calls:
            try:
                arguments = call.arguments()
            except ValueError:
                arguments = {"raw": call.arguments_json}
            self.emit(
                turn,
                ev.ToolCallStarted(
                    turn_id=turn.id, call_id=call.id, name=call.name, arguments=arguments
                ),
            )
            result = await self.tools.run(call.name, call.arguments_json, context)
            if turn.token.cancelled:
                return
            self.conversation.add_tool_result(call, result.content, is_error=result.is_error)
            turn.unanswered.remove(call)
            self.emit(
                turn,
                ev.ToolCallFinished(
                    turn_id=turn.id,
                    call_id=call.id,
                    name=call.name,
                    result=result.content,
                    is_error=result.is_error,
                ),
            )


def _retry_status(provider: str, event: Retrying) -> str:
    return (
        f"{provider}: {event.reason} — retrying in {event.delay_s:.1f} s "
        f"(attempt {event.attempt + 1} of {event.max_attempts})"
    )
