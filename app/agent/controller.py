"""The agent controller: utterances and typed text in, turns and barge-in out.

Plain asyncio, no Qt: the window drives it through ``app.desktop.bridge`` and
headless mode directly. The order of work is the product's core promise
(DESIGN.md): an utterance is *transcribed first*, then echoed, and only then
may it interrupt the running turn; an utterance with no words (or the
assistant's own voice heard back) resumes the paused reply instead.

Inputs are handled strictly in arrival order by one input task. Each turn is
its own task with its own ``CancelToken``; the controller keeps the handle,
cancels, and awaits it with a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from app.agent import events as ev
from app.agent.conversation import TOOL_CANCELLED, Conversation
from app.agent.echo import is_self_echo
from app.agent.inputs import TypedInput, VoiceInput
from app.agent.ports import PreparedTranscriptPort, SpeechPort, TranscriberPort
from app.agent.tools import ToolContext, ToolRegistry
from app.agent.tools.timers import TimerService
from app.agent.turn import Turn, TurnRunner, TurnSettings
from providers.base import Holdable, Provider
from providers.cancel import Cancelled, CancelToken

log = logging.getLogger(__name__)

CANCEL_WAIT_S = 1.0


class AgentController:
    def __init__(
        self,
        *,
        provider: Provider,
        model: str,
        transcriber: TranscriberPort,
        speech: SpeechPort,
        tools: ToolRegistry,
        emit: Callable[[ev.Event], None],
        conversation: Conversation | None = None,
        system_prompt: str | None = None,
        barge_in: bool = True,
        max_tool_rounds: int = 5,
    ) -> None:
        self.conversation = conversation or Conversation()
        self.transcriber = transcriber
        self.speech = speech
        self.barge_in = barge_in
        self.clipboard = None
        self.tools = tools
        self._emit_raw = emit
        self._runner = TurnRunner(
            provider=provider,
            settings=TurnSettings(model, system_prompt, max_tool_rounds),
            conversation=self.conversation,
            speech=speech,
            tools=tools,
            emit=self._emit,
            tool_context=self._tool_context,
            on_first_token=self._on_first_token,
        )
        self._inputs: asyncio.Queue[VoiceInput | TypedInput] = asyncio.Queue()
        self._input_task: asyncio.Task[None] | None = None
        self._turn: Turn | None = None
        self._queued: deque[Turn] = deque()  # barge-in off: turns waiting their go
        self._next_id = 1
        self._next_utterance = 1
        self._user_speaking = False
        self._transcribing = 0
        self._transcribe_token: CancelToken | None = None
        self._paused_turn: Turn | None = None
        self._release_hold: Callable[[], None] | None = None
        self._state = ev.State.IDLE
        self._closed = False
        self._timers: TimerService | None = None
        self._turn_tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    # -- configuration ---------------------------------------------------------------------

    @property
    def settings(self) -> TurnSettings:
        return self._runner.settings

    @property
    def provider(self) -> Provider:
        return self._runner.provider

    @provider.setter
    def provider(self, provider: Provider) -> None:
        self._runner.provider = provider

    @property
    def state(self) -> ev.State:
        return self._state

    @property
    def current_turn(self) -> Turn | None:
        return self._turn

    @property
    def busy(self) -> bool:
        return self._turn is not None or self._transcribing > 0 or not self._inputs.empty()

    # -- inputs (call on the loop thread) --------------------------------------------------

    def speech_started(self, at_s: float = 0.0, *, certain: bool = False) -> None:
        """Onset of speech (VAD): turn the reply down at once (paused if speech goes on);
        ``certain`` (push-to-talk pressed): silence it at once."""
        self._user_speaking = True
        self._emit(ev.SpeechStarted(at_s=at_s))
        turn = self._turn
        if turn is not None and self.barge_in:
            # Also before the reply's first audio: it must not start over the user.
            # A VAD onset may be residual echo: ducked, it is no audible stop.
            if certain:
                self.speech.pause()
            else:
                self.speech.duck()
            self._pause(turn)
        self._update_state()

    def speech_discarded(self) -> None:
        """The onset turned out to be a blip (too short to be speech)."""
        self._user_speaking = False
        if self._inputs.empty() and self._transcribing == 0:
            self._resume_paused()
        self._update_state()

    def next_utterance_id(self) -> int:
        """An id for an utterance that has just begun (its partials and transcript carry it)."""
        utterance_id, self._next_utterance = self._next_utterance, self._next_utterance + 1
        return utterance_id

    def utterance(
        self,
        audio: npt.NDArray[np.float32],
        *,
        start_s: float = 0.0,
        end_s: float = 0.0,
        utterance_id: int | None = None,
        prepared: PreparedTranscriptPort | None = None,
    ) -> None:
        """A finished utterance (VAD end of speech, or push-to-talk released).

        ``prepared``: its transcription, already started (``audio.speculative``)."""
        self._user_speaking = False
        self._emit(ev.SpeechEnded(start_s=start_s, end_s=end_s))
        if utterance_id is None:
            utterance_id = self.next_utterance_id()
        self._put(VoiceInput(audio, time.monotonic(), start_s, end_s, utterance_id, prepared))

    def submit_text(self, text: str) -> None:
        """A typed instruction: the same path as a voice one, minus transcription."""
        text = text.strip()
        if text:
            self._put(TypedInput(text))

    def stop(self) -> None:
        """Esc / Stop: cancel the running turn, queued turns and transcription."""
        if self._transcribe_token is not None:
            self._transcribe_token.cancel("stopped by the user")
        self._queued.clear()
        self.speech.stop()
        if self._turn is not None:
            self._interrupt(self._turn, by="user")
        self._update_state()

    async def close(self) -> None:
        """Cancel everything and wait for it to end (quitting)."""
        self._closed = True
        self.stop()
        if self._input_task is not None:
            self._input_task.cancel()
            await asyncio.wait({self._input_task}, timeout=CANCEL_WAIT_S)
        if self._turn_tasks:
            await asyncio.wait(set(self._turn_tasks), timeout=CANCEL_WAIT_S)
        if self._timers is not None:
            self._timers.close()

    async def wait_idle(self) -> None:
        """Return once every input has been handled and no turn is running."""
        await self._idle.wait()

    # -- internals -------------------------------------------------------------------------

    def _emit(self, event: ev.Event) -> None:
        self._emit_raw(event)

    def _put(self, item: VoiceInput | TypedInput) -> None:
        if self._closed:
            return
        self._inputs.put_nowait(item)
        if self._input_task is None or self._input_task.done():
            self._input_task = asyncio.get_running_loop().create_task(
                self._input_loop(), name="harken-input"
            )
        self._update_state()

    async def _input_loop(self) -> None:
        while not self._inputs.empty():
            item = self._inputs.get_nowait()
            if isinstance(item, TypedInput):
                turn = self._new_turn(item.text, "text")
            else:
                turn = await self._transcribe(item)
                if turn is None:
                    continue
            replaced = self._dispatch(turn)
            if replaced is not None and replaced.task is not None:
                # Own the old task: it saw its token and should end within a chunk.
                done, _ = await asyncio.wait({replaced.task}, timeout=CANCEL_WAIT_S)
                if not done:
                    log.warning("interrupted turn %d is still running", replaced.id)
        self._update_state()

    async def _transcribe(self, item: VoiceInput) -> Turn | None:
        """Rule 1: words first. Returns the turn to run, or None for no words/echo."""
        self._transcribing += 1
        self._update_state()
        token = self._transcribe_token = CancelToken()
        try:
            if item.prepared is not None:
                result = await item.prepared.result(token)
            else:
                result = await self.transcriber.transcribe(item.audio, token)
            text = result.text.strip()
        except Cancelled:
            self._emit(ev.PartialTranscript(utterance_id=item.utterance_id, text=""))
            return None
        except Exception as exc:  # a broken model must not lose the app
            log.exception("transcription failed")
            self._emit(ev.ErrorEvent(kind="transcription", message=str(exc)))
            text = ""
        finally:
            self._transcribing -= 1
            self._transcribe_token = None
        running = self._turn
        reason = None
        if not text:
            reason = "no words"
        elif self.speech.enabled and is_self_echo(
            text, self.speech.recent_spoken_text(), while_speaking=self.speech.speaking
        ):
            reason = "echo of the assistant's own voice"
        if reason is not None:
            self._emit(ev.PartialTranscript(utterance_id=item.utterance_id, text=""))
            if running is not None:
                self._emit(ev.FalseInterruption(turn_id=running.id, reason=reason))
            if not self._user_speaking and self._inputs.empty():
                self._resume_paused()
            self._update_state()
            return None
        turn = self._new_turn(text, "voice")
        turn.speech_end_at = item.ended_at
        turn.transcript_at = time.monotonic()
        self._emit(ev.Transcript(text=text, turn_id=turn.id, utterance_id=item.utterance_id))
        return turn

    def _new_turn(self, text: str, source: str) -> Turn:
        turn = Turn(id=self._next_id, text=text, source=source)
        self._next_id += 1
        return turn

    def _dispatch(self, turn: Turn) -> Turn | None:
        """Start ``turn``, interrupting the running one, or queue it; returns the interrupted."""
        running = self._turn
        if running is not None and not self.barge_in:
            self._queued.append(turn)
            self._update_state()
            return None
        if running is not None:
            self._interrupt(running, by=turn.id)
        self._start(turn)
        return running

    def _start(self, turn: Turn) -> None:
        self._turn = turn
        self._unpause()
        self._emit(ev.TurnStarted(turn_id=turn.id, text=turn.text, source=turn.source))
        task = asyncio.get_running_loop().create_task(self._run(turn), name=f"turn-{turn.id}")
        turn.task = task
        self._turn_tasks.add(task)
        task.add_done_callback(self._turn_tasks.discard)
        self._update_state()

    async def _run(self, turn: Turn) -> None:
        try:
            await self._runner.run(turn)
        finally:
            if self._turn is turn:
                self._turn = None
                if self._queued and not self._closed:
                    self._start(self._queued.popleft())
            self._update_state()

    def _interrupt(self, turn: Turn, *, by: int | str) -> None:
        """Rule 3/4: cancel the token (the stream closes), stop speech, keep what was heard."""
        if not turn.token.cancel(f"interrupted by {by}"):
            return
        kept = self._kept_text(turn)
        self.speech.stop()
        for call in turn.unanswered:
            self.conversation.add_tool_result(call, TOOL_CANCELLED, is_error=True)
        turn.unanswered.clear()
        self.conversation.add_interrupted(kept[turn.recorded_chars :])
        turn.recorded_chars = len(turn.shown)
        if turn.task is not None:
            turn.task.cancel()
        if self._turn is turn:
            self._turn = None
        self._unpause()
        self._emit(ev.TurnInterrupted(turn_id=turn.id, by=by, kept_text=kept))

    def _kept_text(self, turn: Turn) -> str:
        """What the user actually got of the reply: heard when spoken, else shown."""
        if self.speech.enabled and self.speech.heard_text:
            heard = self.speech.heard_text
            return heard if len(heard) <= len(turn.shown) else turn.shown
        return turn.shown

    def _pause(self, turn: Turn) -> None:
        """The user talks over ``turn``: an in-process model stops computing tokens too
        (it would slow down the transcription that decides whether the turn goes on)."""
        self._paused_turn = turn
        provider = self.provider
        if self._release_hold is None and isinstance(provider, Holdable):
            self._release_hold = provider.hold()

    def _unpause(self) -> None:
        self._paused_turn = None
        release, self._release_hold = self._release_hold, None
        if release is not None:
            release()

    def _resume_paused(self) -> None:
        turn = self._paused_turn
        self._unpause()
        if turn is not None and turn is self._turn and not turn.token.cancelled:
            self.speech.resume()

    def speech_event(self, name: str, turn_id: int, detail: str | None = None) -> None:
        """From speech output (on the loop): playback started/stopped, or a failure."""
        turn = self._turn
        current = turn is not None and turn.id == turn_id and not turn.token.cancelled
        if name == "tts_started" and (current or turn_id == 0):
            self._emit(ev.TtsStarted(turn_id=turn_id))
            if turn is not None and current and turn.first_audio_at is None:
                turn.first_audio_at = time.monotonic()
                self._emit_latency(turn)
        elif name == "tts_stopped":
            self._emit(ev.TtsStopped(turn_id=turn_id))
        elif name == "error":
            self._emit(ev.ErrorEvent(kind="speech_output", message=detail or "Speech failed."))

    def _on_first_token(self, turn: Turn) -> None:
        self._emit_latency(turn)
        self._update_state()

    def _emit_latency(self, turn: Turn) -> None:
        if turn.speech_end_at is None:
            return
        self._emit(
            ev.Latency(
                turn_id=turn.id,
                transcript_s=_span(turn.speech_end_at, turn.transcript_at),
                first_token_s=_span(turn.speech_end_at, turn.first_token_at),
                first_audio_s=_span(turn.speech_end_at, turn.first_audio_at),
            )
        )

    def _tool_context(self, token: CancelToken) -> ToolContext:
        if self._timers is None:
            self._timers = TimerService(asyncio.get_running_loop(), self._announce)
        return ToolContext(
            cancel=token,
            announce=self._announce,
            permissions=self.settings.permissions,
            clipboard=self.clipboard,
            extras={"timers": self._timers},
        )

    def _announce(self, text: str) -> None:
        self._emit(ev.Status(text=text))
        if self._turn is None and self.speech.enabled:
            self.speech.begin(0)
            self.speech.feed(text)
            self.speech.finish()

    def _update_state(self) -> None:
        turn = self._turn
        if self._user_speaking:
            state = ev.State.LISTENING
        elif self._transcribing or (turn is None and not self._inputs.empty()):
            state = ev.State.TRANSCRIBING
        elif turn is not None:
            state = ev.State.THINKING if turn.first_token_at is None else ev.State.REPLYING
        else:
            state = ev.State.IDLE
        if state != self._state:
            self._state = state
            self._emit(ev.StateChanged(state=state))
        if self.busy:
            self._idle.clear()
        else:
            self._idle.set()


def _span(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 3)
