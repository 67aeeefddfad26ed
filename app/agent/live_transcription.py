"""Hands-free speech to the controller, transcribing while the user still talks.

The segmenter's events become controller calls (onset pauses the reply, the
end hands over the utterance), and in between this module keeps Whisper busy:
a speculative pass at every pause, partial previews while speech goes on
(``PartialTranscript`` events), and the adaptive end of turn — once the
pause's words are known, the hangover of that pause is shortened (finished
sentence) or lengthened (mid-phrase) within the settings' bounds. An audio
end-of-turn model, when given, scores the same pause beside Whisper's pass;
the decision waits for both (``audio.end_of_turn.hangover_for``). The final
transcript reaches the controller as a ``PreparedTranscript``; the controller
still transcribes first, echoes, then interrupts (DESIGN.md).

One way only: audio → ``InputPump.feed`` → segmenter → ``dispatch`` →
controller. A speculative pass's result only changes the pending pause's
hangover; the segmenter ends the utterance on the next block it is fed (32 ms
at most), so an utterance ends from one entry point. The utterance being
spoken is the speculative transcriber's (``current_utterance``), nobody else's.

A pause is not always the end: speech that starts within
``CONTINUATION_WINDOW_S`` of an utterance's end *continues* it. It keeps the
first part's utterance id (the window's 🎙 message grows), every pass covers
both parts as one audio (Whisper has the context), and the controller is told
which utterance it continues; whether it becomes the same turn is the barge-in
policy's call (``app.agent.barge_in``: only while the reply was not heard).
So that it is not heard too soon, an utterance's reply is spoken only once the
user has been quiet ``speak_after_s`` after it (``VoiceInput.speak_after``,
``app.agent.reply_pause``): it is requested, shown and synthesised at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from app.agent import events as ev
from app.agent.controller import AgentController
from audio.capture import SAMPLE_RATE_HZ
from audio.end_of_turn import HangoverPolicy, ending, hangover_for, partial_hangs
from audio.segmenter import (
    SegmentEvent,
    SpeechDiscarded,
    SpeechEnded,
    SpeechPaused,
    SpeechProgress,
    SpeechResumed,
    SpeechSegmenter,
    SpeechStarted,
)
from audio.speculative import DecodeWorker, SpeculativeTranscriber

log = logging.getLogger(__name__)

# Speech starting this soon after an utterance ended goes on from it (same turn, if the
# reply to the first part was not heard yet).
CONTINUATION_WINDOW_S = 1.8
# The reply's speech waits until the user has been quiet this long (its text streams at
# once): the pause set's thinking pauses last up to 1.2 s, and the user's resumed speech
# needs ~0.1 s to be heard as speech. See LiveOptions.speak_after_s.
SPEAK_AFTER_S = 1.3
# Silence kept after the first part when both are joined: tiny.en drops the first part
# of "Set a timer for" + 0.8 s + "ten minutes" but not with 0.5 s (the second part
# brings its own 0.3 s pre-roll).
JOIN_TAIL_S = 0.1


class TurnModel(Protocol):
    """``audio.turn_model.SmartTurnModel``: P(the speaker is done) for audio up to a pause."""

    def submit(self, audio: npt.NDArray[np.float32]) -> concurrent.futures.Future[float]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class PauseDecision:
    """How one pause was judged: its words, the audio model's P(done) and the hangover."""

    end_s: float
    text: str
    complete_prob: float | None
    hangover_s: float


@dataclass
class LiveOptions:
    """``speculate``: passes at pauses and partials; ``adaptive``: hangover from the words."""

    speculate: bool = True
    adaptive: bool = True
    hangover_min_s: float = 0.2
    hangover_max_s: float = 1.5
    turn_model: bool = True  # ask the audio end-of-turn model too, when there is one
    continuation: bool = True  # speech right after an end of turn goes on from it
    early_request: bool = True  # request a reply at a pause that sounds finished (held)
    # A reply is heard only once the user has been quiet this long after their speech (0: at
    # once): a thinking pause Whisper read as a finished sentence must not be answered aloud.
    speak_after_s: float = SPEAK_AFTER_S


class LiveTranscription:
    def __init__(
        self,
        controller: AgentController,
        segmenter: SpeechSegmenter,
        worker: DecodeWorker,
        *,
        emit: Callable[[ev.Event], None],
        options: LiveOptions | None = None,
        turn_model: TurnModel | None = None,
    ) -> None:
        self.controller = controller
        self.turn_model = turn_model
        self._verdict: tuple[float, asyncio.Future[float]] | None = None  # (pause end_s, P)
        self._previews = ("", "")  # the two latest partial transcripts, older first
        self.on_decision: Callable[[PauseDecision], None] | None = None  # tests, benchmarks
        # The last utterance: (id, audio, stream time it ended), and for the one being
        # spoken, the earlier part it continues (id, audio) when it started in the window.
        self._last: tuple[int, npt.NDArray[np.float32], float] | None = None
        self._continues: tuple[int, npt.NDArray[np.float32]] | None = None
        self.segmenter = segmenter
        self.options = options or LiveOptions()
        self._emit = emit
        segmenter.live_events = True
        self.speculative = SpeculativeTranscriber(
            worker,
            on_partial=self._partial,
            on_speculative=self._speculated,
            speculate=self.options.speculate,
            partials=self.options.speculate,
        )

    def configure(self, options: LiveOptions) -> None:
        """New settings; they apply from the next pause."""
        self.options = options
        self.speculative.speculate = options.speculate
        self.speculative.partials = options.speculate

    def policy(self) -> HangoverPolicy:
        """The settings' bounds around the segmenter's base hangover (which may change)."""
        base = self.segmenter.hangover_s
        low = min(self.options.hangover_min_s, base)
        return HangoverPolicy(base, low, max(self.options.hangover_max_s, base, low))

    def dispatch(self, event: SegmentEvent) -> None:
        """One segmenter event, on the loop."""
        controller = self.controller
        if isinstance(event, SpeechStarted):
            self._previews = ("", "")
            last, self._continues = self._last, None
            if self.options.continuation and last is not None:
                if event.at_s - last[2] <= CONTINUATION_WINDOW_S:
                    self._continues = (last[0], last[1])
            if self._continues is not None:
                self.speculative.started(self._continues[0])
            else:
                self.speculative.started(controller.next_utterance_id())
            controller.speech_started(event.at_s)
        elif isinstance(event, SpeechPaused):
            event = SpeechPaused(self._joined(event.audio), event.start_s, event.end_s)
            self.speculative.on_quick = self._quick if self._may_request_early() else None
            self.speculative.paused(event)
            self._score_pause(event)
            if self.options.adaptive and self.options.speculate:
                # Until the words are known, the pause is not a clear end: a busy machine
                # must not end it at the base hangover before Whisper could say "capital of".
                self.segmenter.set_pause_hangover(self.policy().max_s)
        elif isinstance(event, SpeechResumed):
            self.speculative.resumed()
            controller.drop_early_request("the user went on after a pause")
        elif isinstance(event, SpeechProgress):
            self.speculative.progress(
                SpeechProgress(self._joined(event.audio), event.start_s, event.at_s)
            )
        elif isinstance(event, SpeechEnded):
            utterance = self.speculative.current_utterance
            continues, self._continues = self._continues, None
            event = SpeechEnded(self._joined(event.audio, continues), event.start_s, event.end_s)
            prepared = self.speculative.ended(event)
            if utterance is not None:
                clock_s = self.segmenter.clock_s  # the audio runs up to now
                silence = round(max(0.0, clock_s - event.end_s - JOIN_TAIL_S) * SAMPLE_RATE_HZ)
                self._last = (utterance, event.audio[: len(event.audio) - silence], clock_s)
            controller.utterance(
                event.audio,
                start_s=event.start_s,
                end_s=event.end_s,
                utterance_id=utterance,
                prepared=prepared,
                continues=continues[0] if continues is not None else None,
                speak_after=self._speak_after(event.end_s),
            )
        elif isinstance(event, SpeechDiscarded):
            self._continues = None  # a blip continues nothing (the earlier part stays last)
            self.speculative.discarded()
            controller.drop_early_request("the sound was not speech")
            controller.speech_discarded()

    def reset(self) -> None:
        """The segmenter was reset (push-to-talk, hands-free off): drop the open utterance."""
        utterance = self.speculative.current_utterance
        if utterance is not None and self._continues is None:
            self._emit(ev.PartialTranscript(utterance_id=utterance, text=""))
        self._last = self._continues = None
        self.speculative.close()
        self.controller.drop_early_request("listening was reset")

    def close(self) -> None:
        self.speculative.close()
        if self.turn_model is not None:
            self.turn_model.close()

    def _speak_after(self, end_s: float) -> float | None:
        """When the reply to speech that ended at stream time ``end_s`` may be heard."""
        if self.options.speak_after_s <= 0:
            return None
        silence_s = max(0.0, self.segmenter.clock_s - end_s)  # already quiet that long
        return time.monotonic() - silence_s + self.options.speak_after_s

    def _joined(
        self,
        audio: npt.NDArray[np.float32],
        continues: tuple[int, npt.NDArray[np.float32]] | None = None,
    ) -> npt.NDArray[np.float32]:
        """``audio`` behind the earlier part it continues, if any: one utterance for Whisper."""
        earlier = continues if continues is not None else self._continues
        if earlier is None:
            return audio
        return np.concatenate([earlier[1], audio]).astype(np.float32, copy=False)

    def _score_pause(self, event: SpeechPaused) -> None:
        """Start the audio model on the pause, beside Whisper's pass over the same audio."""
        self._verdict = None
        if self.turn_model is None or not (self.options.adaptive and self.options.turn_model):
            return
        try:
            future = asyncio.wrap_future(self.turn_model.submit(event.audio))
        except RuntimeError:  # closed
            return
        future.add_done_callback(_retrieve)
        self._verdict = (event.end_s, future)

    # -- from the speculative transcriber --------------------------------------------------

    def _partial(self, utterance_id: int, text: str) -> None:
        """A preview of the utterance being spoken (stale ones never reach here)."""
        self._previews = (self._previews[1], text)
        self._emit(ev.PartialTranscript(utterance_id=utterance_id, text=text))

    def _may_request_early(self) -> bool:
        """A quick pass at this pause could start an early request (not for a continuation,
        whose turn would replace another)."""
        options = self.options
        if not (options.early_request and options.adaptive and options.speculate):
            return False
        return self._continues is None and self.controller.may_request_early()

    def _quick(self, utterance_id: int, end_s: float, text: str) -> None:
        """A quick read of the words up to the pending pause: if they end like a finished
        sentence, the reply is requested now and held (``app.agent.early_request``).

        Not when the latest preview hung mid-phrase (continuations get no quick pass at
        all, ``_may_request_early``); the end of turn itself still waits for the full pass."""
        seg = self.segmenter
        if not seg.pause_pending or seg.pause_end_s != end_s:
            return
        if utterance_id != self.speculative.current_utterance:
            return
        latest = self._previews[1]
        if ending(text) != "finished" or (latest and partial_hangs(latest, text)):
            return
        if self.controller.early_request(utterance_id, text):
            log.debug("early request after %r", text)

    def _speculated(self, utterance_id: int, end_s: float, text: str) -> None:
        """The words up to the pending pause are known: adapt that pause's hangover.

        Only a setting: the segmenter ends the utterance on the next block if the new
        hangover has already passed (the speculative transcriber calls this for the
        utterance being spoken only)."""
        seg = self.segmenter
        if not self.options.adaptive or not seg.pause_pending or seg.pause_end_s != end_s:
            return
        if utterance_id != self.speculative.current_utterance:
            return
        verdict = self._verdict
        prob = None
        if verdict is not None and verdict[0] == end_s:
            if not verdict[1].done():  # the audio model is still listening: decide after it
                verdict[1].add_done_callback(lambda _f: self._speculated(utterance_id, end_s, text))
                return
            if not verdict[1].cancelled() and verdict[1].exception() is None:
                prob = verdict[1].result()
        # The pause's own words were just published as a preview too: use the one before.
        older, latest = self._previews
        preview = older if latest == text else latest
        hangover = hangover_for(text, self.policy(), complete_prob=prob, partial=preview)
        log.debug("pause after %r (P(done) %s): hangover %.2f s", text, prob, hangover)
        seg.set_pause_hangover(hangover)
        if self.on_decision is not None:
            self.on_decision(PauseDecision(end_s, text, prob, hangover))


def _retrieve(future: asyncio.Future[float]) -> None:
    """A failed model is logged once per pause and otherwise ignored (words decide)."""
    if not future.cancelled() and future.exception() is not None:
        log.warning("end-of-turn model failed: %s", future.exception())
