"""The thin Qt adapter between the window and the plain-asyncio controller.

Controller events become one ``event`` signal (delivered on the GUI thread:
qasync runs asyncio on Qt's loop); window commands become controller calls.
The bridge also owns the microphone task, so capture can fail, be reported
and be restarted without restarting the app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.agent import events as ev
from app.runtime.composition import Components
from audio.errors import AudioError

log = logging.getLogger(__name__)


class ControllerBridge(QObject):
    event = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.components: Components | None = None
        self._capture_task: asyncio.Task[None] | None = None
        self._history: Any = None
        self._conversation_id: int | None = None
        self._on_conversation_changed: list[Callable[[int | None], None]] = []

    # -- wiring ----------------------------------------------------------------------------

    def publish(self, event: ev.Event) -> None:
        """The controller's ``emit``: forward to the window."""
        self.event.emit(event)

    def attach(self, components: Components, history: Any = None) -> None:
        self.components = components
        self._history = history
        if history is not None:
            components.controller.conversation.add_listener(self._save_message)

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
        self._conversation_id = None

    def open_conversation(self, conversation_id: int) -> None:
        if self.components is None or self._history is None:
            return
        self.components.controller.stop()
        messages = self._history.load_messages(conversation_id)
        self.components.controller.conversation.replace(messages)
        self._conversation_id = conversation_id

    @property
    def conversation_id(self) -> int | None:
        return self._conversation_id

    def _save_message(self, message: Any, meta: Any) -> None:
        if self._history is None:
            return
        if self._conversation_id is None:
            self._conversation_id = self._history.create_conversation()
        self._history.add_message(self._conversation_id, message, meta)
