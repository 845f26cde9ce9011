"""Untrusted text (plan clauses, survey names, file names, error messages) shown as plain text.

Qt guesses whether a tooltip, a message box or a label is rich text (``Qt::mightBeRichText``):
a plan clause or a survey name that starts with ``<img src=…>`` or ``<a href=…>`` would be
rendered as HTML. Tooltips cannot be told their format, so their text is escaped inside a
paragraph Qt always treats as rich text; message boxes are set to ``Qt.PlainText``.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

__all__ = ["tooltip", "warn", "critical"]


def tooltip(text: object) -> str:
    """Tooltip markup that shows ``text`` literally (line breaks kept)."""
    s = "" if text is None else str(text)
    if not s:
        return ""
    return ("<p style='white-space:pre-wrap'>" + html.escape(s, quote=False) + "</p>")


def _box(icon, parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(icon, str(title), str(text), QMessageBox.Ok, parent)
    box.setTextFormat(Qt.PlainText)
    box.exec()


def warn(parent: QWidget | None, title: str, text: object) -> None:
    """A warning box whose message is plain text (never HTML, never a link)."""
    _box(QMessageBox.Warning, parent, title, str(text))


def critical(parent: QWidget | None, title: str, text: object) -> None:
    _box(QMessageBox.Critical, parent, title, str(text))
