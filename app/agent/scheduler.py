"""Turn scheduling: which turn runs, which wait, and how one is interrupted.

One turn runs at a time, as its own asyncio task with its own ``CancelToken``
(``Turn``). ``dispatch`` starts a new turn, cancelling the running one
(barge-in) or, with barge-in off, queues it to run when the current one ends,
in order. ``retract`` ends a turn the user went on speaking into (a
continuation): cancelled like an interrupt, but its user message and reply
leave the history, since the next turn carries the whole utterance.
A hands-free turn's speech begins held (``ReplyPause.hold``) until its
``speak_after``: the reply streams at once but is heard only once the user
has stayed quiet that long. ``interrupt`` is design rules 2–4 in one place: the token is
cancelled (the HTTP stream closes within a chunk, tools are told), speech
stops, the reply stays in history cut where the user heard it and marked as
interrupted, and the old task is cancelled; the caller awaits it with a
timeout (``await_end``). A cancelled turn publishes nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from app.agent import events as ev
from app.agent.conversation import TOOL_CANCELLED, Conversation
from app.agent.ports import SpeechPort
from app.agent.reply_pause import ReplyPause
from app.agent.turn import Turn, TurnRunner
from providers.events import Message

log = logging.getLogger(__name__)

CANCEL_WAIT_S = 1.0


class TurnScheduler:
    def __init__(
        self,
        *,
        runner: TurnRunner,
        conversation: Conversation,
        speech: SpeechPort,
        emit: Callable[[ev.Event], None],
        changed: Callable[[], None],
        quiet: Callable[[], bool] = lambda: True,
    ) -> None:
        self._runner = runner
        self._conversation = conversation
        self._speech = speech
        self._emit = emit
        self._changed = changed
        self.pause = ReplyPause(speech, lambda: runner.provider, lambda: self._running, quiet)
        self._running: Turn | None = None
        self._latest: Turn | None = None  # the turn started last (running or not)
        self._queued: deque[Turn] = deque()  # barge-in off: turns waiting their go
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = 1
        self._closed = False

    @property
    def running(self) -> Turn | None:
        return self._running

    @property
    def latest(self) -> Turn | None:
        return self._latest

    def new_turn(self, text: str, source: str) -> Turn:
        turn = Turn(id=self._next_id, text=text, source=source)
        self._next_id += 1
        return turn

    def dispatch(self, turn: Turn, *, barge_in: bool) -> Turn | None:
        """Start ``turn``, interrupting the running one, or queue it (barge-in off).

        Returns the interrupted turn, whose task the caller awaits (``await_end``)."""
        running = self._running
        if running is not None and not barge_in:
            self._queued.append(turn)
            self._changed()
            return None
        if running is not None:
            self.interrupt(running, by=turn.id)
        self._start(turn)
        return running

    def stop(self) -> None:
        """Esc, a stop phrase, quitting: the running turn and every queued one end."""
        self._queued.clear()
        self._speech.stop()
        if self._running is not None:
            self.interrupt(self._running, by="user")

    def interrupt(self, turn: Turn, *, by: int | str) -> None:
        """Rules 2–4: cancel the token (the stream closes), stop speech, keep what was heard."""
        if not turn.token.cancel(f"interrupted by {by}"):
            return
        kept = self._kept_text(turn)
        self._speech.stop()
        _record_interrupted(self._conversation, turn, kept)
        turn.unanswered.clear()
        turn.recorded_chars = len(turn.shown)
        if turn.task is not None:
            turn.task.cancel()
        if self._running is turn:
            self._running = None
        self.pause.release()
        self._emit(ev.TurnInterrupted(turn_id=turn.id, by=by, kept_text=kept))

    def messages_if_dispatched(self, text: str) -> list[Message]:
        """The history a voice turn for ``text`` dispatched now would send (barge-in on):
        the running turn interrupted where the user got it, then ``text`` — worked out on a
        copy, by the same steps as ``interrupt`` and the turn's start."""
        scratch = Conversation(self._conversation.messages)
        running = self._running
        if running is not None:
            _record_interrupted(scratch, running, self._kept_text(running))
        scratch.add_user(text, voice=True)
        return scratch.messages

    def retract(self, turn: Turn) -> None:
        """A continuation: cancel ``turn`` (if still running) and take it out of the history.

        A cancelled turn adds nothing more to the conversation, so what it added so far
        (its user message, a reply, tool results) is everything from ``history_start``."""
        turn.token.cancel("continued by the user")
        if self._running is turn:
            self._speech.stop()
            self._running = None
        turn.unanswered.clear()
        if turn.task is not None:
            turn.task.cancel()
        self.pause.release()
        self._conversation.retract(turn.history_start)
        self._emit(ev.TurnInterrupted(turn_id=turn.id, by="continuation", kept_text=""))

    async def await_end(self, turn: Turn | None) -> None:
        """Own an interrupted turn's task: it saw its token and should end within a chunk."""
        if turn is None or turn.task is None:
            return
        done, _ = await asyncio.wait({turn.task}, timeout=CANCEL_WAIT_S)
        if not done:
            log.warning("interrupted turn %d is still running", turn.id)

    async def close(self) -> None:
        """Quitting: stop everything and wait (bounded) for the turn tasks to end."""
        self._closed = True
        self.stop()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=CANCEL_WAIT_S)

    # -- internals -------------------------------------------------------------------------

    def _start(self, turn: Turn) -> None:
        self._running = self._latest = turn
        turn.history_start = len(self._conversation)
        self.pause.release()
        self._speech.begin(turn.id)
        if turn.speak_after is not None and self._speech.enabled:
            self.pause.hold(turn, turn.speak_after)  # heard once the end of turn is confirmed
        self._runner.begin(turn)  # the user message now: the turn may be interrupted at once
        self._emit(ev.TurnStarted(turn_id=turn.id, text=turn.text, source=turn.source))
        task = asyncio.get_running_loop().create_task(self._run(turn), name=f"turn-{turn.id}")
        turn.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._changed()

    async def _run(self, turn: Turn) -> None:
        try:
            await self._runner.run(turn)
        finally:
            if self._running is turn:
                self._running = None
                if self._queued and not self._closed:
                    self._start(self._queued.popleft())
            self._changed()

    def _kept_text(self, turn: Turn) -> str:
        """What the user actually got of the reply: heard when spoken, else shown."""
        if self._speech.enabled and self._speech.heard_text:
            heard = self._speech.heard_text
            return heard if len(heard) <= len(turn.shown) else turn.shown
        return turn.shown


def _record_interrupted(conversation: Conversation, turn: Turn, kept: str) -> None:
    """History's side of an interrupt: unanswered tool calls cancelled, the reply cut
    where the user got it."""
    for call in turn.unanswered:
        conversation.add_tool_result(call, TOOL_CANCELLED, is_error=True)
    conversation.add_interrupted(kept[turn.recorded_chars :])
