"""The barge-in decision: what the user's speech does to the reply in flight. One place.

DESIGN.md's rules, in the order ``handle`` applies them to a finished utterance:

1. **Words first.** The utterance is transcribed before anything is echoed or
   interrupted; until then the reply is only paused (``onset``).
2. **No words, or Harken's own voice** heard back → the paused reply resumes
   (``false_interruption``, reason "no words" / "echo …").
3. **A backchannel alone** ("mm-hmm", "yeah") over a running reply → resumes
   too (reason "backchannel"): the user is listening, not interrupting.
4. **A stop phrase alone** ("stop", "never mind") over a running reply → echoed,
   the reply cancelled, nothing sent; the assistant goes idle.
5. **Anything else** → echoed, then the running turn is interrupted and the
   new instruction runs (with barge-in off: queued, run in order).

Before rule 2, a **continuation**: an utterance that started right after the
end of the previous one (``VoiceInput.continues``, ``app.agent.live_transcription``)
and whose audio holds both parts. If the turn born of the first part is the
latest one and its reply was not yet meaningfully heard
(``CONTINUATION_HEARD_S`` of its audio played; with speech off, nothing is
heard), it is the
same turn: the whole transcript is echoed under the first part's utterance id
(one 🎙 message that grows), that turn is retracted — cancelled, and its user
message and reply taken out of the history (``turn_interrupted`` with ``by:
"continuation"``) — and the whole utterance runs as one new turn. A
continuation that adds no words to the first part (a cough after it) is a
false interruption ("no new words"): the reply resumes. A hands-free reply is
not heard at all before the user has been quiet ``VoiceInput.speak_after``
(``app.agent.reply_pause``), so a continuation normally finds it unheard.

"May the paused reply resume?" is one predicate, ``may_resume``: only when no
more of the user's speech is on its way (not speaking, nothing queued, nothing
being transcribed). Steps 3–4 apply only with barge-in on and a turn running;
otherwise such words are an ordinary message.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.agent import events as ev
from app.agent.echo import is_self_echo
from app.agent.inputs import VoiceInput
from app.agent.phrases import Kind, Phrases
from app.agent.ports import SpeechPort, TranscriberPort
from app.agent.scheduler import TurnScheduler
from app.agent.turn import Turn
from providers.cancel import Cancelled, CancelToken

log = logging.getLogger(__name__)

ECHO = "echo of the assistant's own voice"
NO_NEW_WORDS = "no new words"
# A running reply whose audio played for less than this (two or three words) may still be
# merged away: the user who resumes within the continuation window was finishing their own
# sentence over its first words, not answering them.
CONTINUATION_HEARD_S = 1.0
# A finished turn's reply: shown (and spoken) up to this many characters (~1 s of speech).
CONTINUATION_HEARD_CHARS = 15
_WORD = re.compile(r"[\w']+")


class Verdict(StrEnum):
    RESUME = "resume"  # a false interruption: the paused reply goes on
    STOP = "stop"  # cancel the reply, send nothing
    RUN = "run"  # a new instruction


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""  # why a RESUME: "no words", ECHO, "backchannel"


class BargeIn:
    def __init__(
        self,
        *,
        transcriber: TranscriberPort,
        speech: SpeechPort,
        scheduler: TurnScheduler,
        emit: Callable[[ev.Event], None],
        inputs_waiting: Callable[[], bool],
        changed: Callable[[], None],
        enabled: bool = True,
        phrases: Phrases | None = None,
        wording: Callable[[int, str], str] | None = None,
    ) -> None:
        self.transcriber = transcriber
        self.enabled = enabled
        self.phrases = phrases or Phrases()
        # The same words as an early request worded them (app.agent.early_request).
        self._wording = wording or (lambda _utterance_id, text: text)
        self._speech = speech
        self._scheduler = scheduler
        self._emit = emit
        self._inputs_waiting = inputs_waiting
        self._changed = changed
        self._user_speaking = False
        self._transcribing = 0
        self._token: CancelToken | None = None

    @property
    def user_speaking(self) -> bool:
        return self._user_speaking

    @property
    def transcribing(self) -> bool:
        return self._transcribing > 0

    # -- while the user speaks -------------------------------------------------------------

    def onset(self, *, certain: bool = False) -> None:
        """Speech began: hold the reply, keep it. A VAD onset may be residual echo, so the
        reply is ducked (paused if speech goes on); push-to-talk (``certain``) silences it."""
        self._user_speaking = True
        turn = self._scheduler.running
        if turn is not None and self.enabled:
            self._scheduler.pause.pause(turn, duck=not certain)

    def blip(self) -> None:
        """The onset was too short to be speech."""
        self._user_speaking = False
        if self.may_resume():
            self._scheduler.pause.resume()

    def ended(self) -> None:
        """Speech ended; its utterance is queued for ``handle``."""
        self._user_speaking = False

    def may_resume(self) -> bool:
        """The one predicate: no more of the user's speech is on its way."""
        return not self._user_speaking and not self._inputs_waiting() and not self.transcribing

    # -- a finished utterance --------------------------------------------------------------

    async def handle(self, item: VoiceInput) -> None:
        """One utterance, by the rules above, in order."""
        text = await self._words(item)  # 1. words first
        if text is None:
            return  # transcription cancelled (Stop, quitting): nothing to decide
        text = self._wording(item.utterance_id, text)
        running = self._scheduler.running
        continued = self._continued(item)
        if continued is not None and text and _adds_words(continued.text, text):
            turn = self._scheduler.new_turn(text, "voice")  # echo, then retract and run
            self._stamp(turn, item)
            self._emit(ev.Transcript(text=text, turn_id=turn.id, utterance_id=item.utterance_id))
            self._scheduler.retract(continued)
            self._scheduler.dispatch(turn, barge_in=True)
            await self._scheduler.await_end(continued)
            return
        decision = self.decide(text, running)
        if continued is not None and decision.verdict is not Verdict.RESUME:
            decision = Decision(Verdict.RESUME, NO_NEW_WORDS)
        if decision.verdict is Verdict.RESUME:  # 2, 3
            self._emit(ev.PartialTranscript(utterance_id=item.utterance_id, text=""))
            if running is not None:
                self._emit(ev.FalseInterruption(turn_id=running.id, reason=decision.reason))
            if self.may_resume():
                self._scheduler.pause.resume()
            self._changed()
            return
        if decision.verdict is Verdict.STOP:  # 4
            self._emit(ev.Transcript(text=text, turn_id=0, utterance_id=item.utterance_id))
            self._scheduler.stop()
            return
        turn = self._scheduler.new_turn(text, "voice")  # 5: echo, then interrupt or queue
        self._stamp(turn, item)
        self._emit(ev.Transcript(text=text, turn_id=turn.id, utterance_id=item.utterance_id))
        replaced = self._scheduler.dispatch(turn, barge_in=self.enabled)
        await self._scheduler.await_end(replaced)

    def decide(self, text: str, running: Turn | None) -> Decision:
        """Rules 2–5 for a transcript; ``running``: the turn it was spoken over, if any."""
        if not text:
            return Decision(Verdict.RESUME, "no words")
        if self._speech.enabled and is_self_echo(
            text, self._speech.recent_spoken_text(), while_speaking=self._speech.speaking
        ):
            return Decision(Verdict.RESUME, ECHO)
        if running is not None and self.enabled:
            kind = self.phrases.classify(text)
            if kind is Kind.BACKCHANNEL:
                return Decision(Verdict.RESUME, "backchannel")
            if kind is Kind.STOP:
                return Decision(Verdict.STOP)
        return Decision(Verdict.RUN)

    def _continued(self, item: VoiceInput) -> Turn | None:
        """The turn ``item`` goes on from, if it may still become that same turn."""
        turn = self._scheduler.latest
        if item.continues is None or not self.enabled or turn is None:
            return None
        if turn.utterance_id != item.continues:
            return None
        if not self._speech.enabled:
            return turn
        if turn is self._scheduler.running:
            return turn if self._speech.played_s < CONTINUATION_HEARD_S else None
        # It finished, and so did its speech.
        return turn if len(turn.shown) < CONTINUATION_HEARD_CHARS else None

    @staticmethod
    def _stamp(turn: Turn, item: VoiceInput) -> None:
        turn.speech_end_at = item.ended_at
        turn.transcript_at = time.monotonic()
        turn.utterance_id = item.utterance_id
        turn.speak_after = item.speak_after

    def cancel_transcription(self) -> None:
        """Stop: the utterance being transcribed is dropped."""
        if self._token is not None:
            self._token.cancel("stopped by the user")

    async def _words(self, item: VoiceInput) -> str | None:
        """The transcript ("" for none or a failed model); None when it was cancelled."""
        self._transcribing += 1
        self._changed()
        token = self._token = CancelToken()
        try:
            if item.prepared is not None:
                result = await item.prepared.result(token)
            else:
                result = await self.transcriber.transcribe(item.audio, token)
            return result.text.strip()
        except Cancelled:
            self._emit(ev.PartialTranscript(utterance_id=item.utterance_id, text=""))
            return None
        except Exception as exc:  # a broken model must not lose the app
            log.exception("transcription failed")
            self._emit(ev.ErrorEvent(kind="transcription", message=str(exc)))
            return ""
        finally:
            # No state change published here: the verdict decides the next state (a new
            # turn → thinking); an "idle" in between would flicker.
            self._transcribing -= 1
            self._token = None


def _adds_words(before: str, after: str) -> bool:
    """True when ``after`` (both parts) has words ``before`` (the first part) lacks."""
    earlier = _WORD.findall(before.lower())
    for word in _WORD.findall(after.lower()):
        if word in earlier:
            earlier.remove(word)
        else:
            return True
    return False
