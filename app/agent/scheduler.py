"""Turn scheduling: which turn runs, which wait, and how one is interrupted.

One turn runs at a time, as its own asyncio task with its own ``CancelToken``
(``Turn``). ``dispatch`` starts a new turn, cancelling the running one
(barge-in) or, with barge-in off, queues it to run when the current one ends,
in order. ``interrupt`` is design rules 2–4 in one place: the token is
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
    ) -> None:
        self._runner = runner
        self._conversation = conversation
        self._speech = speech
        self._emit = emit
        self._changed = changed
        self.pause = ReplyPause(speech, lambda: runner.provider, lambda: self._running)
        self._running: Turn | None = None
        self._queued: deque[Turn] = deque()  # barge-in off: turns waiting their go
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = 1
        self._closed = False

    @property
    def running(self) -> Turn | None:
        return self._running

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
        for call in turn.unanswered:
            self._conversation.add_tool_result(call, TOOL_CANCELLED, is_error=True)
        turn.unanswered.clear()
        self._conversation.add_interrupted(kept[turn.recorded_chars :])
        turn.recorded_chars = len(turn.shown)
        if turn.task is not None:
            turn.task.cancel()
        if self._running is turn:
            self._running = None
        self.pause.release()
        self._emit(ev.TurnInterrupted(turn_id=turn.id, by=by, kept_text=kept))

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
        self._running = turn
        self.pause.release()
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
