"""Speak a streamed reply: sentences are synthesised in one worker thread and played as they come.

This is the one object the controller drives per app: ``begin`` a reply,
``feed`` its text deltas, ``finish`` it, and ``duck``/``pause``/``resume``/``stop``
it for barge-in. Synthesis of sentence n+1 overlaps playback of sentence n.
``stop`` returns at once: it bumps a generation counter that every queued or
running synthesis checks before it may enqueue audio, then silences the player.
It also keeps what the user actually heard (for history truncation) and what
was spoken recently (to recognise the assistant's own voice coming back
through the microphone).

Events go to ``on_event(name, turn_id, detail)`` on the asyncio loop thread:
``"tts_started"`` (first audio of the reply reached the device),
``"tts_stopped"`` (the reply's audio ended or was stopped; only after a
start), and ``"error"`` with a message a person can act on. Errors never end
the turn; the reply is then shown without (the rest of) its speech.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .capture import resample
from .errors import SpeechOutputError
from .playback import ChunkStarted, PlaybackFailed, PlaybackIdle, PlayerEvent, SpeechPlayer
from .sentence_chunker import Sentence, SentenceChunker
from .trailing_silence import trim_trailing_silence
from .tts import EspeakTts, Tts, load_with_fallback

log = logging.getLogger(__name__)

OnSpeechEvent = Callable[[str, int, str | None], None]

SENTENCE_GAP_S = 0.12  # a breath between sentences
# A piece cut inside a clause with no punctuation (see sentence_chunker) runs on into the
# next: Piper ends every piece in ~0.13 s of silence, which is cut to this, and no breath is
# added, so the pause between the pieces (~0.08 s with the next piece's lead-in) is about
# that between two words rather than the ~0.3 s of a comma.
RUN_ON_PAUSE_S = 0.03
_RECENT_KEEP_S = 120.0


@dataclass(eq=False)
class _Reply:
    turn_id: int
    generation: int
    chunker: SentenceChunker = field(default_factory=SentenceChunker)
    source: str = ""
    finished: bool = False
    pending: int = 0  # sentences handed to the worker and not yet fully enqueued
    heard_end: int = 0
    started: bool = False
    failed: bool = False
    done: bool = False
    done_event: asyncio.Event = field(default_factory=asyncio.Event)


class SpeechOutput:
    """Text deltas in, speech out; see the module docstring for the event contract."""

    def __init__(
        self,
        tts: Tts,
        player: SpeechPlayer,
        *,
        enabled: bool = True,
        on_event: OnSpeechEvent | None = None,
        fallback_tts: Callable[[], Tts] = EspeakTts,
    ) -> None:
        self._preferred = tts
        self._fallback_tts = fallback_tts
        self._tts: Tts | None = None
        self._player = player
        self._on_event = on_event
        self._enabled = enabled
        self._unavailable = False
        self._lock = threading.RLock()  # on_event may run inline when there is no loop
        self._generation = 0
        self._reply: _Reply | None = None
        self._recent: collections.deque[tuple[float, str]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_error: str | None = None
        self._load_warning: str | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="speech"
        )
        self._load_future: concurrent.futures.Future[None] | None = None
        player.add_listener(self._on_player_event)
        if enabled:
            self._start_loading()

    # -- state -----------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """Speech is on and a voice could be loaded (False: everything is a no-op)."""
        return self._enabled and not self._unavailable

    def set_enabled(self, enabled: bool) -> None:
        """Turn speech on or off (off stops what is playing)."""
        if not enabled:
            self.stop()
        self._enabled = enabled
        if enabled:
            self._start_loading()

    @property
    def speaking(self) -> bool:
        """A reply is live: begun, not stopped, and not yet fully played."""
        reply = self._reply
        return self.enabled and reply is not None and not reply.done

    @property
    def heard_text(self) -> str:
        """The current reply's raw text up to the end of the last sentence whose audio
        started playing (a sentence counts as heard from its first sample on); "" when
        speech is off or nothing was heard."""
        reply = self._reply
        if not self.enabled or reply is None:
            return ""
        with self._lock:
            return reply.source[: reply.heard_end]

    @property
    def played_s(self) -> float:
        """Seconds of the current reply's audio that have played (pauses excluded): how
        much of it the user has really heard so far; 0.0 when speech is off."""
        if not self.enabled or self._reply is None:
            return 0.0
        return self._player.played_s

    def recent_spoken_text(self, window_s: float = 15.0) -> str:
        """Sentences (as spoken, Markdown removed) that started playing in the last
        ``window_s`` seconds, across replies: for recognising self-echo."""
        cutoff = time.monotonic() - window_s
        with self._lock:
            return " ".join(text for started, text in self._recent if started >= cutoff)

    async def wait_loaded(self) -> str | None:
        """Wait for the voice; returns a warning (fallback voice, or no voice at all)."""
        self._capture_loop()
        if self._load_future is None:
            return None
        await asyncio.wrap_future(self._load_future)
        return self._load_warning

    # -- the reply -------------------------------------------------------------------------

    def begin(self, turn_id: int) -> None:
        """Start a new reply, stopping whatever was still being spoken."""
        self._capture_loop()
        self.stop()
        if not self.enabled:
            return
        with self._lock:
            reply = _Reply(turn_id, self._generation)
            self._reply = reply
        self._executor.submit(self._open_player, reply)

    def feed(self, delta: str) -> None:
        """Add reply text; complete sentences go to the synthesis worker at once."""
        reply = self._reply
        if not self.enabled or reply is None or reply.done or reply.finished:
            return
        with self._lock:
            reply.source += delta
        for sentence in reply.chunker.feed_sentences(delta):
            self._submit(reply, sentence)

    def finish(self) -> None:
        """The reply's text is complete: speak the rest."""
        reply = self._reply
        if not self.enabled or reply is None or reply.done or reply.finished:
            return
        for sentence in reply.chunker.flush_sentences():
            self._submit(reply, sentence)
        with self._lock:
            reply.finished = True
            self._complete_if_played(reply)

    def pause(self) -> None:
        """Silence at once, keeping the queue and position (a barge-in may be false)."""
        if self.enabled:
            self._player.pause()

    def duck(self) -> None:
        """Turn the reply down at once and pause it if the user goes on talking (see
        ``SpeechPlayer.duck``): an onset that is only residual echo is not an audible stop."""
        if self.enabled:
            self._player.duck()

    def resume(self) -> None:
        """Undo ``pause()`` or ``duck()``."""
        if self.enabled:
            self._player.resume()

    def stop(self) -> None:
        """Silence at once and drop queued and pending speech; never waits for audio."""
        with self._lock:
            self._generation += 1
            reply = self._reply
            ending = reply is not None and not reply.done
            if reply is not None:
                reply.done = True
        self._player.stop()
        if reply is not None and ending:
            self._end(reply)

    async def wait_done(self) -> None:
        """Return once everything fed for the current reply was played, or it was stopped."""
        reply = self._reply
        if not self.enabled or reply is None or reply.done:
            return
        await reply.done_event.wait()

    def close(self) -> None:
        """Stop, release the audio device and the worker (never blocks on synthesis)."""
        self.stop()
        self._player.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- worker thread ---------------------------------------------------------------------

    def _start_loading(self) -> None:
        if self._load_future is None:
            self._load_future = self._executor.submit(self._load)

    def _load(self) -> None:
        try:
            self._tts, self._load_warning = load_with_fallback(self._preferred, self._fallback_tts)
        except SpeechOutputError as exc:
            self._unavailable = True
            self._load_warning = f"Speech output is off: {exc.message}"
            log.warning("%s", self._load_warning)

    def _open_player(self, reply: _Reply) -> None:
        """Open the device while the model is still thinking, so the first sentence is quick."""
        if self._stale(reply):
            return
        try:
            self._player.open()
        except SpeechOutputError as exc:
            self._report(reply.turn_id, exc.message)

    def _submit(self, reply: _Reply, sentence: Sentence) -> None:
        with self._lock:
            reply.pending += 1
        try:
            self._executor.submit(self._speak, reply, sentence)
        except RuntimeError:  # closed
            with self._lock:
                reply.pending -= 1

    def _speak(self, reply: _Reply, sentence: Sentence) -> None:
        try:
            tts = self._tts
            if tts is None or self._stale(reply) or reply.failed:
                return
            first = True
            for audio in tts.synthesize(sentence.text):
                if self._stale(reply):
                    return  # stopped while synthesising: discard
                if sentence.run_on:
                    audio = trim_trailing_silence(audio, tts.sample_rate_hz, RUN_ON_PAUSE_S)
                self._enqueue(reply, sentence, audio, tts.sample_rate_hz, first=first)
                first = False
            if not first and not sentence.run_on:
                gap = np.zeros(int(self._player.sample_rate_hz * SENTENCE_GAP_S), np.float32)
                self._enqueue(reply, sentence, gap, self._player.sample_rate_hz, first=False)
        except SpeechOutputError as exc:
            reply.failed = True
            self._report(reply.turn_id, exc.message)
        except Exception as exc:
            log.exception("speech synthesis failed")
            self._report(reply.turn_id, f"Speech synthesis failed ({exc}); the reply is shown.")
        finally:
            with self._lock:
                reply.pending -= 1
                self._complete_if_played(reply)

    def _enqueue(
        self, reply: _Reply, sentence: Sentence, audio: np.ndarray, rate_hz: int, *, first: bool
    ) -> None:
        audio = resample(audio, rate_hz, self._player.sample_rate_hz)
        self._player.open()
        with self._lock:
            if self._stale(reply):
                return
            self._player.enqueue(audio, sentence.text if first else "", tag=(reply, sentence))

    # -- player events (audio thread) ------------------------------------------------------

    def _on_player_event(self, event: PlayerEvent) -> None:
        if isinstance(event, ChunkStarted):
            self._on_chunk_started(event)
        elif isinstance(event, PlaybackIdle):
            with self._lock:
                reply = self._reply
                if reply is not None:
                    self._complete_if_played(reply)
        elif isinstance(event, PlaybackFailed):
            reply = self._reply
            if reply is not None:
                reply.failed = True
                self._report(reply.turn_id, event.error.message)

    def _on_chunk_started(self, event: ChunkStarted) -> None:
        if not isinstance(event.tag, tuple) or len(event.tag) != 2:
            return
        reply, sentence = event.tag
        if not isinstance(reply, _Reply) or not isinstance(sentence, Sentence):
            return  # a chunk someone else queued on the shared player
        now = time.monotonic()
        with self._lock:
            if reply is not self._reply or reply.done:
                return
            self._last_error = None
            reply.heard_end = max(reply.heard_end, sentence.source_end)
            if event.text:
                self._recent.append((now, event.text))
            while self._recent and self._recent[0][0] < now - _RECENT_KEEP_S:
                self._recent.popleft()
            if not reply.started:
                reply.started = True
                self._emit("tts_started", reply.turn_id)

    # -- helpers ---------------------------------------------------------------------------

    def _stale(self, reply: _Reply) -> bool:
        return reply.generation != self._generation or reply.done

    def _complete_if_played(self, reply: _Reply) -> None:
        """With the lock held: end the reply once all of it was synthesised and played."""
        if reply.done or not reply.finished or reply.pending > 0 or not self._player.idle:
            return
        reply.done = True
        self._end(reply)

    def _end(self, reply: _Reply) -> None:
        if reply.started:
            self._emit("tts_stopped", reply.turn_id)
        self._call_on_loop(reply.done_event.set)

    def _report(self, turn_id: int, message: str) -> None:
        """Report an error once (the same failure on every sentence is said once)."""
        if message == self._last_error:
            return
        self._last_error = message
        log.warning("speech output: %s", message)
        self._emit("error", turn_id, message)

    def _emit(self, name: str, turn_id: int, detail: str | None = None) -> None:
        callback = self._on_event
        if callback is not None:
            self._call_on_loop(lambda: _deliver(callback, name, turn_id, detail))

    def _capture_loop(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            pass

    def _call_on_loop(self, function: Callable[[], object]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            function()
            return
        try:
            loop.call_soon_threadsafe(function)
        except RuntimeError:  # the loop closed meanwhile
            function()


def _deliver(callback: OnSpeechEvent, name: str, turn_id: int, detail: str | None) -> None:
    try:
        callback(name, turn_id, detail)
    except Exception:
        log.exception("speech event handler failed")
