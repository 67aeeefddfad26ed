"""The thin Qt adapter between the window and the plain-asyncio controller.

Controller events become one ``event`` signal (delivered on the GUI thread:
qasync runs asyncio on Qt's loop); window commands become controller calls.
The bridge also owns the microphone task, so capture can fail, be reported
and be restarted without restarting the app, and the history writer, so the
conversation is saved off the GUI thread: a locked or full database is said
once in the window and never holds up a turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.agent import events as ev
from app.runtime.composition import Components
from app.runtime.history_writer import ConversationRef, HistoryWriter
from audio.errors import AudioError

log = logging.getLogger(__name__)


class ControllerBridge(QObject):
    event = Signal(object)
    history_written = Signal()  # rows reached the history database (the sidebar refreshes)
    _from_writer = Signal(str, bool)  # the writer thread → the GUI thread (queued by Qt)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.components: Components | None = None
        self._capture_task: asyncio.Task[None] | None = None
        self._history: Any = None
        self._writer: HistoryWriter | None = None
        self._conversation: ConversationRef | None = None
        self._on_conversation_changed: list[Callable[[int | None], None]] = []
        self._from_writer.connect(self._writer_says)

    # -- wiring ----------------------------------------------------------------------------

    def publish(self, event: ev.Event) -> None:
        """The controller's ``emit``: forward to the window."""
        self.event.emit(event)

    def attach(self, components: Components, history: Any = None) -> None:
        self.components = components
        self._history = history
        if history is not None:
            self._writer = HistoryWriter(
                history.path, notify=self._from_writer.emit, written=self.history_written.emit
            )
            components.controller.conversation.add_listener(self._save_message)
            components.controller.conversation.add_retract_listener(self._retract_messages)

    def _writer_says(self, text: str, ok: bool) -> None:
        if ok:
            self.publish(ev.Status(text=text))
        else:
            self.publish(ev.ErrorEvent(kind="history", message=text))

    async def start(self) -> None:
        """Wait for the models (the window is already up), then start listening."""
        assert self.components is not None
        self.publish(ev.Status(text="Loading speech models…"))
        try:
            warnings = await self.components.wait_loaded()
        except AudioError as exc:
            self.publish(ev.ErrorEvent(kind=exc.kind.value, message=exc.message))
            return
        for warning in warnings:
            self.publish(ev.ErrorEvent(kind="model", message=warning))
        server = self.components.options.stt
        self.publish(  # the window says how
            ev.Ready(
                stt_model=self.components.stt_description,
                stt_engine=self.components.stt_engine,
                stt_url=server.url if server is not None else "",
            )
        )
        self.restart_capture()

    def restart_capture(self) -> None:
        """(Re)open the microphone; a failure is reported and can be retried."""
        if self.components is None:
            return
        if self._capture_task is not None and not self._capture_task.done():
            self._capture_task.cancel()
        self._capture_task = asyncio.get_running_loop().create_task(self._capture())

    async def _capture(self) -> None:
        assert self.components is not None
        try:
            await self.components.pump.run(self.components.microphone_source())
        except AudioError as exc:
            self.publish(ev.ErrorEvent(kind=exc.kind.value, message=exc.message))

    async def shutdown(self) -> None:
        if self._capture_task is not None:
            self._capture_task.cancel()
            await asyncio.wait({self._capture_task}, timeout=2)
        if self.components is not None:
            await self.components.aclose()
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close, 2.0)

    # -- commands from the window ----------------------------------------------------------

    def push_to_talk_press(self) -> None:
        if self.components is not None:
            self.components.pump.push_to_talk_press()

    def push_to_talk_release(self) -> None:
        if self.components is not None:
            self.components.pump.push_to_talk_release()

    def set_hands_free(self, on: bool) -> None:
        if self.components is not None:
            self.components.pump.set_hands_free(on)

    def submit_text(self, text: str) -> None:
        if self.components is not None:
            self.components.controller.submit_text(text)

    def stop(self) -> None:
        if self.components is not None:
            self.components.controller.stop()

    def new_conversation(self) -> None:
        if self.components is None:
            return
        self.components.controller.stop()
        self.components.controller.conversation.replace([])
        self._conversation = None

    def open_conversation(self, conversation_id: int) -> None:
        if self.components is None or self._history is None:
            return
        self.components.controller.stop()
        messages = self._history.load_messages(conversation_id)
        self.components.controller.conversation.replace(messages)
        self._conversation = ConversationRef(conversation_id)

    @property
    def conversation_id(self) -> int | None:
        """The current conversation's id in the history, once its first row is written."""
        return self._conversation.id if self._conversation is not None else None

    @property
    def history_writer(self) -> HistoryWriter | None:
        return self._writer

    def _retract_messages(self, count: int) -> None:
        """A turn merged into the next (a continuation): its rows go, in order, off the GUI."""
        if self._writer is not None and self._conversation is not None:
            self._writer.retract(self._conversation, count)

    def _save_message(self, message: Any, meta: Any) -> None:
        """Queued for the writer thread: returns at once, whatever the database is doing."""
        if self._writer is None:
            return
        if self._conversation is None:
            self._conversation = ConversationRef()
        self._writer.add_message(self._conversation, message, meta)
