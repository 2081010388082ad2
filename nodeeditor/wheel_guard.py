"""The mouse wheel scrolls panels; it never edits a field the user has not chosen.

Qt gives spin boxes and combo boxes the focus policy ``WheelFocus``: a wheel turned
over one takes the focus and changes its value, so scrolling a list of settings edits
whichever field passes under the cursor (the batch size went from 64 to 51). One
application-wide event filter fixes this everywhere (inspector, training settings,
dialogs): such fields get ``StrongFocus`` (click or Tab to edit) when first polished,
and a wheel over one that has no focus goes to the scroll area around it instead.
A field with the focus still takes the wheel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox

GUARDED = (QAbstractSpinBox, QComboBox)
_WATCHED = (QEvent.Type.Wheel, QEvent.Type.Polish)


class WheelGuard(QObject):
    """The event filter (install it with ``install``)."""

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind not in _WATCHED or not isinstance(watched, GUARDED):
            return False
        if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        if kind != QEvent.Type.Wheel or watched.hasFocus():
            return False
        area = scroll_area_around(watched)
        if area is None:
            event.ignore()  # a real wheel goes on to the parents; the field keeps its value
        else:
            QApplication.sendEvent(area.viewport(), event)
        return True


def scroll_area_around(widget) -> QAbstractScrollArea | None:
    """The nearest scroll area that holds ``widget``, or None."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and parent.viewport().isAncestorOf(widget):
            return parent
        parent = parent.parentWidget()
    return None


def install(app: QApplication | None = None) -> WheelGuard | None:
    """Filter the events of ``app`` (the running one by default); once per application."""
    app = app or QApplication.instance()
    if app is None:
        return None
    guard = app.findChild(WheelGuard)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
    return guard
