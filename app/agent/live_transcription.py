"""Hands-free speech to the controller, transcribing while the user still talks.

The segmenter's events become controller calls, as before (onset pauses the
reply, the end hands over the utterance), and in between this module keeps
Whisper busy: a speculative pass at every pause, partial previews while
speech goes on (``PartialTranscript`` events), and the adaptive end of turn —
once the pause's words are known, the hangover of that pause is shortened
(finished sentence) or lengthened (mid-phrase) within the settings' bounds,
and the utterance ends at once if the new hangover has already passed. The
final transcript reaches the controller as a ``PreparedTranscript``; the
controller still transcribes first, echoes, then interrupts (DESIGN.md).
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
        self._utterance: int | None = None
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
            self._utterance = controller.next_utterance_id()
            self.speculative.started(self._utterance)
            controller.speech_started(event.at_s)
        elif isinstance(event, SpeechPaused):
            self.speculative.paused(event)
        elif isinstance(event, SpeechResumed):
            self.speculative.resumed()
        elif isinstance(event, SpeechProgress):
            self.speculative.progress(event)
        elif isinstance(event, SpeechEnded):
            utterance, self._utterance = self._utterance, None
            prepared = self.speculative.ended(event)
            controller.utterance(
                event.audio,
                start_s=event.start_s,
                end_s=event.end_s,
                utterance_id=utterance,
                prepared=prepared,
            )
        elif isinstance(event, SpeechDiscarded):
            self._utterance = None
            self.speculative.discarded()
            controller.speech_discarded()

    def reset(self) -> None:
        """The segmenter was reset (push-to-talk, hands-free off): drop the open utterance."""
        if self._utterance is not None:
            self._emit(ev.PartialTranscript(utterance_id=self._utterance, text=""))
        self._utterance = None
        self.speculative.close()

    def close(self) -> None:
        self.speculative.close()

    # -- from the speculative transcriber --------------------------------------------------

    def _partial(self, utterance_id: int, text: str) -> None:
        if utterance_id == self._utterance:
            self._emit(ev.PartialTranscript(utterance_id=utterance_id, text=text))

    def _speculated(self, utterance_id: int, end_s: float, text: str) -> None:
        """The words up to the pending pause are known: adapt that pause's hangover."""
        seg = self.segmenter
        if not self.options.adaptive or utterance_id != self._utterance:
            return
        if not seg.pause_pending or seg.pause_end_s != end_s:
            return
        hangover = hangover_for(text, self.policy())
        log.debug("pause after %r: hangover %.2f s", text, hangover)
        seg.set_pause_hangover(hangover)
        for event in seg.poll():
            self.dispatch(event)
