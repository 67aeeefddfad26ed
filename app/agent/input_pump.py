"""Feeds microphone (or file) audio to the controller.

Each block updates the level meter, the push-to-talk recorder's pre-roll
and, in hands-free mode, the voice activity segmenter whose onset/end events
become the controller's ``speech_started`` / ``utterance`` calls. While the
push-to-talk key is held, ``audio.held_speech`` transcribes at every pause,
so key-up hands the controller a transcript that is usually ready. Plain
asyncio: the window and headless mode both run it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from app.agent import events as ev
from app.agent.controller import AgentController
from app.agent.live_transcription import LiveTranscription
from audio.held_speech import HeldSpeech
from audio.level import LevelMeter
from audio.push_to_talk import PushToTalkRecorder
from audio.segmenter import SpeechDiscarded, SpeechEnded, SpeechSegmenter, SpeechStarted

LEVEL_INTERVAL_S = 1 / 30
MIN_PTT_AUDIO_S = 0.15


class InputPump:
    def __init__(
        self,
        controller: AgentController,
        segmenter: SpeechSegmenter,
        *,
        emit: Callable[[ev.Event], None],
        hands_free: bool = True,
        preroll_s: float = 0.3,
        live: LiveTranscription | None = None,
        held: HeldSpeech | None = None,
    ) -> None:
        self.controller = controller
        self.segmenter = segmenter
        self.hands_free = hands_free
        self._emit = emit
        self._meter = LevelMeter()
        self._ptt = PushToTalkRecorder(preroll_s=preroll_s)
        self._last_level = 0.0
        # Speculative transcription and partials while speaking (hands-free); None: off.
        self.live = live
        # Push-to-talk transcribed while the key is held; None: only at key-up.
        self.held = held

    def set_hands_free(self, on: bool) -> None:
        if on != self.hands_free:
            self.hands_free = on
            self._reset_segmenter()

    def push_to_talk_press(self) -> None:
        if self._ptt.recording:
            return
        self._ptt.press()
        self._reset_segmenter()
        self.controller.speech_started(certain=True)
        preroll = self._ptt.audio()
        if self.held is not None and preroll is not None:
            self.held.press(self.controller.next_utterance_id(), preroll)

    def push_to_talk_release(self) -> None:
        if not self._ptt.recording:
            return
        audio = self._ptt.release()
        held = self.held
        utterance_id = held.utterance_id if held is not None else None
        if audio is None or len(audio) < MIN_PTT_AUDIO_S * 16000:
            if held is not None:
                held.cancel()
            if utterance_id is not None:
                self._emit(ev.PartialTranscript(utterance_id=utterance_id, text=""))
            self.controller.speech_discarded()
        elif held is not None and utterance_id is not None:
            prepared = held.release(audio)
            self.controller.utterance(audio, utterance_id=utterance_id, prepared=prepared)
        else:
            self.controller.utterance(audio)

    def feed(self, block: npt.NDArray[np.float32]) -> None:
        level = self._meter.update(block)
        now = time.monotonic()
        if now - self._last_level >= LEVEL_INTERVAL_S:
            self._last_level = now
            self._emit(
                ev.InputLevel(
                    rms_dbfs=level.rms_dbfs,
                    peak_dbfs=level.peak_dbfs,
                    normalised=self._meter.normalised,
                )
            )
        self._ptt.feed(block)
        if self.held is not None and self._ptt.recording:
            self.held.feed(block)
        if self.hands_free and not self._ptt.recording:
            for event in self.segmenter.feed(block):
                self._dispatch(event)

    def end_of_input(self) -> None:
        if self._ptt.recording:
            self.push_to_talk_release()
        for event in self.segmenter.flush():
            self._dispatch(event)

    def _reset_segmenter(self) -> None:
        self.segmenter.reset()
        if self.live is not None:
            self.live.reset()

    def _dispatch(self, event: Any) -> None:
        if self.live is not None:
            self.live.dispatch(event)
        elif isinstance(event, SpeechStarted):
            self.controller.speech_started(event.at_s)
        elif isinstance(event, SpeechEnded):
            self.controller.utterance(event.audio, start_s=event.start_s, end_s=event.end_s)
        elif isinstance(event, SpeechDiscarded):
            self.controller.speech_discarded()

    async def run(self, source: Any) -> None:
        """Pump ``source`` (an ``audio`` AudioSource) until it ends or is closed."""
        async with source:
            async for block in source.blocks():
                self.feed(block)
        self.end_of_input()
