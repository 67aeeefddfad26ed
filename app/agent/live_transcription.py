"""Hands-free speech to the controller, transcribing while the user still talks.

The segmenter's events become controller calls (onset pauses the reply, the
end hands over the utterance), and in between this module keeps Whisper busy:
a speculative pass at every pause, partial previews while speech goes on
(``PartialTranscript`` events), and the adaptive end of turn — once the
pause's words are known, the hangover of that pause is shortened (finished
sentence) or lengthened (mid-phrase) within the settings' bounds. The final
transcript reaches the controller as a ``PreparedTranscript``; the controller
still transcribes first, echoes, then interrupts (DESIGN.md).

One way only: audio → ``InputPump.feed`` → segmenter → ``dispatch`` →
controller. A speculative pass's result only changes the pending pause's
hangover; the segmenter ends the utterance on the next block it is fed (32 ms
at most), so an utterance ends from one entry point. The utterance being
spoken is the speculative transcriber's (``current_utterance``), nobody else's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.agent import events as ev
from app.agent.controller import AgentController
from audio.end_of_turn import HangoverPolicy, hangover_for
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


@dataclass
class LiveOptions:
    """``speculate``: passes at pauses and partials; ``adaptive``: hangover from the words."""

    speculate: bool = True
    adaptive: bool = True
    hangover_min_s: float = 0.4
    hangover_max_s: float = 1.2


class LiveTranscription:
    def __init__(
        self,
        controller: AgentController,
        segmenter: SpeechSegmenter,
        worker: DecodeWorker,
        *,
        emit: Callable[[ev.Event], None],
        options: LiveOptions | None = None,
    ) -> None:
        self.controller = controller
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
            self.speculative.started(controller.next_utterance_id())
            controller.speech_started(event.at_s)
        elif isinstance(event, SpeechPaused):
            self.speculative.paused(event)
        elif isinstance(event, SpeechResumed):
            self.speculative.resumed()
        elif isinstance(event, SpeechProgress):
            self.speculative.progress(event)
        elif isinstance(event, SpeechEnded):
            utterance = self.speculative.current_utterance
            prepared = self.speculative.ended(event)
            controller.utterance(
                event.audio,
                start_s=event.start_s,
                end_s=event.end_s,
                utterance_id=utterance,
                prepared=prepared,
            )
        elif isinstance(event, SpeechDiscarded):
            self.speculative.discarded()
            controller.speech_discarded()

    def reset(self) -> None:
        """The segmenter was reset (push-to-talk, hands-free off): drop the open utterance."""
        utterance = self.speculative.current_utterance
        if utterance is not None:
            self._emit(ev.PartialTranscript(utterance_id=utterance, text=""))
        self.speculative.close()

    def close(self) -> None:
        self.speculative.close()

    # -- from the speculative transcriber --------------------------------------------------

    def _partial(self, utterance_id: int, text: str) -> None:
        """A preview of the utterance being spoken (stale ones never reach here)."""
        self._emit(ev.PartialTranscript(utterance_id=utterance_id, text=text))

    def _speculated(self, utterance_id: int, end_s: float, text: str) -> None:
        """The words up to the pending pause are known: adapt that pause's hangover.

        Only a setting: the segmenter ends the utterance on the next block if the new
        hangover has already passed (the speculative transcriber calls this for the
        utterance being spoken only)."""
        seg = self.segmenter
        if not self.options.adaptive or not seg.pause_pending or seg.pause_end_s != end_s:
            return
        hangover = hangover_for(text, self.policy())
        log.debug("pause after %r: hangover %.2f s", text, hangover)
        seg.set_pause_hangover(hangover)
