"""The agent controller: utterances and typed text in, turns and barge-in out.

Plain asyncio, no Qt: the window drives it through ``app.desktop.bridge`` and
headless mode directly. It is the façade over the agent core's parts:

- ``BargeIn`` (``barge_in.py``): what the user's speech does to the reply in
  flight — transcribe first, then echo, then interrupt; the rules in one place;
- ``TurnScheduler`` (``scheduler.py``): start, queue, run and interrupt turns;
- ``LatencyMeter``, ``ToolHost``, ``derive_state``: the latency line, the
  tools' context and timers, the state shown to the user.

Inputs are handled strictly in arrival order by one input task, so a voice
message is never dropped and never overtakes an earlier one (DESIGN.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from app.agent import events as ev
from app.agent.barge_in import BargeIn, Verdict
from app.agent.conversation import Conversation
from app.agent.inputs import TypedInput, VoiceInput
from app.agent.latency import LatencyMeter
from app.agent.phrases import Phrases
from app.agent.ports import PreparedTranscriptPort, SpeechPort, TranscriberPort
from app.agent.scheduler import CANCEL_WAIT_S, TurnScheduler
from app.agent.state import derive_state
from app.agent.tool_host import ToolHost
from app.agent.tools import ToolRegistry
from app.agent.turn import Turn, TurnRunner, TurnSettings
from providers.base import Holdable, Provider


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
        phrases: Phrases | None = None,
    ) -> None:
        self.conversation = conversation or Conversation()
        self.speech = speech
        self.tools = tools
        self._emit = emit
        self._latency = LatencyMeter(emit)
        self._tool_host = ToolHost(
            speech=speech,
            emit=emit,
            permissions=lambda: self.settings.permissions,
            replying=lambda: self._scheduler.running is not None,
        )
        self._runner = TurnRunner(
            provider=provider,
            settings=TurnSettings(model, system_prompt, max_tool_rounds),
            conversation=self.conversation,
            speech=speech,
            tools=tools,
            emit=emit,
            tool_context=self._tool_host.context,
            on_first_token=self._on_first_token,
        )
        self._scheduler = TurnScheduler(
            runner=self._runner,
            conversation=self.conversation,
            speech=speech,
            emit=emit,
            changed=self._update_state,
            quiet=lambda: self._barge_in.may_resume(),
        )
        self._inputs: asyncio.Queue[VoiceInput | TypedInput] = asyncio.Queue()
        self._barge_in = BargeIn(
            transcriber=transcriber,
            speech=speech,
            scheduler=self._scheduler,
            emit=emit,
            inputs_waiting=lambda: not self._inputs.empty(),
            changed=self._update_state,
            enabled=barge_in,
            phrases=phrases,
            wording=self._runner.early_wording,
        )
        self._input_task: asyncio.Task[None] | None = None
        self._next_utterance = 1
        self._state = ev.State.IDLE
        self._closed = False
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
    def transcriber(self) -> TranscriberPort:
        return self._barge_in.transcriber

    @transcriber.setter
    def transcriber(self, transcriber: TranscriberPort) -> None:
        self._barge_in.transcriber = transcriber

    @property
    def barge_in(self) -> bool:
        return self._barge_in.enabled

    @barge_in.setter
    def barge_in(self, on: bool) -> None:
        self._barge_in.enabled = on

    @property
    def phrases(self) -> Phrases:
        return self._barge_in.phrases

    @phrases.setter
    def phrases(self, phrases: Phrases) -> None:
        self._barge_in.phrases = phrases

    @property
    def clipboard(self) -> Any:
        return self._tool_host.clipboard

    @clipboard.setter
    def clipboard(self, clipboard: Any) -> None:
        self._tool_host.clipboard = clipboard

    @property
    def state(self) -> ev.State:
        return self._state

    @property
    def current_turn(self) -> Turn | None:
        return self._scheduler.running

    @property
    def busy(self) -> bool:
        return (
            self._scheduler.running is not None
            or self._barge_in.transcribing
            or not self._inputs.empty()
        )

    # -- inputs (call on the loop thread) --------------------------------------------------

    def speech_started(self, at_s: float = 0.0, *, certain: bool = False) -> None:
        """Onset of speech (VAD): turn the reply down at once (paused if speech goes on);
        ``certain`` (push-to-talk pressed): silence it at once."""
        self._emit(ev.SpeechStarted(at_s=at_s))
        self._runner.drop_early("the user spoke again")
        self._barge_in.onset(certain=certain)
        self._update_state()

    def speech_discarded(self) -> None:
        """The onset turned out to be a blip (too short to be speech)."""
        self._barge_in.blip()
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
        continues: int | None = None,
        speak_after: float | None = None,
    ) -> None:
        """A finished utterance (VAD end of speech, or push-to-talk released).

        ``prepared``: its transcription, already started (``audio.speculative``);
        ``continues``: the utterance it goes on from (``audio`` holds both parts);
        ``speak_after``: its reply is not heard before this monotonic time."""
        self._barge_in.ended()
        self._emit(ev.SpeechEnded(start_s=start_s, end_s=end_s))
        if utterance_id is None:
            utterance_id = self.next_utterance_id()
        self._put(
            VoiceInput(
                audio,
                time.monotonic(),
                start_s,
                end_s,
                utterance_id,
                prepared,
                continues,
                speak_after,
            )
        )

    def early_request(self, utterance_id: int, text: str) -> bool:
        """The user paused after ``text`` (a quick pass) and it looks finished: send the
        request the turn would send for it now (``app.agent.early_request``); the turn takes
        it over if its words and history come out the same. True when one was sent.

        Not for words the barge-in rules would not run (a backchannel, a stop phrase, an
        echo), nor while earlier speech is still on its way or a turn would be queued; nor
        with a model in this process, whose generation would slow the transcription."""
        text = text.strip()
        if not text or not self.may_request_early():
            return False
        if self._barge_in.decide(text, self._scheduler.running).verdict is not Verdict.RUN:
            return False
        messages = self._scheduler.messages_if_dispatched(text)
        self._runner.send_early(messages, utterance_id, text)
        return True

    def may_request_early(self) -> bool:
        """Whether an early request could be sent now, whatever the words (so that hands-free
        listening spends no quick pass on one that could not)."""
        if self._closed or isinstance(self.provider, Holdable):
            return False
        if not self._inputs.empty() or self._barge_in.transcribing:
            return False
        return self._scheduler.running is None or self._barge_in.enabled

    def drop_early_request(self, reason: str) -> None:
        """The user went on (or it is over): the early request will not be the turn's."""
        self._runner.drop_early(reason)

    def submit_text(self, text: str) -> None:
        """A typed instruction: the same path as a voice one, minus transcription."""
        text = text.strip()
        if text:
            self._put(TypedInput(text))

    def stop(self) -> None:
        """Esc / Stop: cancel the running turn, queued turns and transcription."""
        self._barge_in.cancel_transcription()
        self._runner.drop_early("stopped")
        self._scheduler.stop()
        self._update_state()

    async def close(self) -> None:
        """Cancel everything and wait for it to end (quitting)."""
        self._closed = True
        self.stop()
        if self._input_task is not None:
            self._input_task.cancel()
            await asyncio.wait({self._input_task}, timeout=CANCEL_WAIT_S)
        await self._scheduler.close()
        await self._runner.close()
        self._tool_host.close()

    async def wait_idle(self) -> None:
        """Return once every input has been handled and no turn is running."""
        await self._idle.wait()

    def speech_event(self, name: str, turn_id: int, detail: str | None = None) -> None:
        """From speech output (on the loop): playback started/stopped, or a failure."""
        turn = self._scheduler.running
        current = turn is not None and turn.id == turn_id and not turn.token.cancelled
        if name == "tts_started" and (current or turn_id == 0):
            self._emit(ev.TtsStarted(turn_id=turn_id))
            if turn is not None and current:
                self._latency.first_audio(turn)
        elif name == "tts_stopped":
            self._emit(ev.TtsStopped(turn_id=turn_id))
        elif name == "error":
            self._emit(ev.ErrorEvent(kind="speech_output", message=detail or "Speech failed."))

    # -- internals -------------------------------------------------------------------------

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
                turn = self._scheduler.new_turn(item.text, "text")
                replaced = self._scheduler.dispatch(turn, barge_in=self._barge_in.enabled)
                await self._scheduler.await_end(replaced)
            else:
                await self._barge_in.handle(item)
                early = self._runner.early
                if early is not None and early.utterance_id == item.utterance_id:
                    self._runner.drop_early("its utterance did not start a turn")
        self._update_state()

    def _on_first_token(self, turn: Turn) -> None:
        self._latency.first_token(turn)
        self._update_state()

    def _update_state(self) -> None:
        state = derive_state(
            user_speaking=self._barge_in.user_speaking,
            transcribing=self._barge_in.transcribing,
            inputs_waiting=not self._inputs.empty(),
            turn=self._scheduler.running,
        )
        if state != self._state:
            self._state = state
            self._emit(ev.StateChanged(state=state))
        if self.busy:
            self._idle.clear()
        else:
            self._idle.set()
