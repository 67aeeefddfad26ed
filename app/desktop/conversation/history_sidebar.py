"""The conversation list: new, switch, rename (F2 / double-click), delete (Del), search.

It reads and writes ``HistoryStore`` directly for renames and deletes, and
tells the window when the user opens a conversation or starts a new one;
the window decides what that means for the controller.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.window.icons import icon

ID_ROLE = Qt.ItemDataRole.UserRole


class _List(QListWidget):
    delete_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Delete and self.state() != self.State.EditingState:
            self.delete_pressed.emit()
            return
        super().keyPressEvent(event)


class HistorySidebar(QWidget):
    open_requested = Signal(int)
    new_requested = Signal()
    deleted = Signal(int)
    failed = Signal(str)  # a rename or delete the database refused (locked, full disk)

    def __init__(self, store: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setObjectName("sidebar")
        self._current: int | None = None
        self._filling = False

        self.new_button = QPushButton(icon("new"), "New conversation", self)
        self.new_button.setAccessibleName("New conversation")
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search conversations")
        self.search.setAccessibleName("Search conversations")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.list = _List(self)
        self.list.setAccessibleName("Conversations")
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
        )
        self.list.setUniformItemSizes(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        # Long titles end in "…"; a horizontal scroll bar would cut them off mid-word instead.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        self.list.itemChanged.connect(self._renamed)
        self.list.delete_pressed.connect(self.delete_selected)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.empty = QLabel("No conversations yet.", self)
        self.empty.setObjectName("sidebarEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty.setWordWrap(True)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 6, 10)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1)
        self.setMinimumWidth(200)
        self.refresh()

    def sizeHint(self) -> QSize:
        return QSize(250, 600)

    @property
    def current_id(self) -> int | None:
        return self._current

    def set_current(self, conversation_id: int | None) -> None:
        self._current = conversation_id
        self._select(conversation_id)

    def refresh(self) -> None:
        query = self.search.text()
        rows = self.store.search(query) if query.strip() else self.store.list_conversations()
        self._filling = True
        self.list.clear()
        for row in rows:
            item = QListWidgetItem(row.title or "Untitled conversation")
            item.setData(ID_ROLE, row.id)
            item.setToolTip(f"{row.title}\n{_when(row.updated)} · {row.message_count} messages")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        self._filling = False
        self.empty.setText("No matches." if query.strip() else "No conversations yet.")
        self.empty.setVisible(not rows)
        self.list.setVisible(bool(rows))
        self._select(self._current)

    def delete_selected(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        conversation_id = int(item.data(ID_ROLE))
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete conversation",
            f"Delete “{item.text()}”? This cannot be undone.",
            QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Yes,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(
            lambda result: (
                self._delete(conversation_id) if result == QMessageBox.StandardButton.Yes else None
            )
        )
        self._confirm = box
        box.open()

    def rename_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _delete(self, conversation_id: int) -> None:
        try:
            self.store.delete(conversation_id)
        except sqlite3.Error as exc:
            logging.getLogger(__name__).warning("delete failed: %s", exc)
            self.failed.emit(f"Could not delete the conversation ({exc}); try again later.")
            return
        if self._current == conversation_id:
            self._current = None
        self.refresh()
        self.deleted.emit(conversation_id)

    def _select(self, conversation_id: int | None) -> None:
        self._filling = True
        self.list.clearSelection()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == conversation_id:
                self.list.setCurrentItem(item)
                break
        self._filling = False

    def _activated(self, item: QListWidgetItem) -> None:
        conversation_id = int(item.data(ID_ROLE))
        if conversation_id != self._current:
            self._current = conversation_id
            self.open_requested.emit(conversation_id)

    def _renamed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        title = item.text().strip()
        conversation_id = int(item.data(ID_ROLE))
        if title:
            try:
                self.store.rename(conversation_id, title)
            except sqlite3.Error as exc:
                logging.getLogger(__name__).warning("rename failed: %s", exc)
                self.failed.emit(f"Could not rename the conversation ({exc}); try again later.")
                self.refresh()
        else:
            self.refresh()  # an empty title is not a rename: put the old one back

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        self.list.setCurrentItem(item)
        menu = QMenu(self)
        rename = QAction("Rename", menu)
        rename.triggered.connect(self.rename_selected)
        delete = QAction("Delete…", menu)
        delete.triggered.connect(self.delete_selected)
        menu.addActions([rename, delete])
        menu.popup(self.list.viewport().mapToGlobal(pos))


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
