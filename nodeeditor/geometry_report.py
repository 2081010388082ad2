"""What the window looks like on screen, as JSON, for the real-display tests.

``DEEPWIRE_TEST_REPORT=/path/report.json deepwire FILE`` makes the running window
write, every ``INTERVAL_MS`` of its event loop, the on-screen rectangles
(``[x, y, width, height]`` in global screen pixels) of the window, the canvas, each
dock and the training plots (or a GAN's live view), the Train button and the run's
status, the spin boxes of the training settings with their values, the document's
path, dataset and training sections, and for how many ticks all of it has stayed the
same (a settled layout, however loaded the machine). The tests in
``tests/realdisplay`` read it to check the layout a user sees (a window manager and a
real X server give sizes the offscreen platform does not) and to aim real mouse
events. Without the variable nothing of this runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QTimer
from PySide6.QtWidgets import QAbstractSpinBox, QTabBar, QWidget

ENV_VAR = "DEEPWIRE_TEST_REPORT"
INTERVAL_MS = 150


def seen_part(widget: QWidget) -> QRect:
    """The part of ``widget`` (in its own pixels) that its parents leave on screen:
    empty when hidden, scrolled away, or a dock behind another dock's tab (which Qt
    keeps "visible" off screen)."""
    if not widget.isVisible():
        return QRect()
    part = widget.rect()
    parent, offset = widget.parentWidget(), widget.pos()
    while parent is not None:
        part = part.intersected(parent.rect().translated(-offset))
        if parent.isWindow():
            break
        offset += parent.pos()
        parent = parent.parentWidget()
    return part


def screen_rect(widget: QWidget, whole: bool = False) -> list[int]:
    """``widget``'s rectangle in global screen pixels; zero when not seen (or, with
    ``whole``, when not all of it is seen)."""
    part = seen_part(widget)
    if part.isEmpty() or (whole and part != widget.rect()):
        return [0, 0, 0, 0]
    origin = widget.mapToGlobal(QPoint(0, 0))
    return [origin.x(), origin.y(), widget.width(), widget.height()]


def _plots(panel) -> dict:
    if not getattr(panel, "built", False):
        return {"widget": [0, 0, 0, 0], "heights": []}
    plots = panel.plots
    boxes = [plot.getViewBox() for plot in (plots.loss_plot, plots.metric_plot, plots.lr_plot)]
    heights = [round(box.sceneBoundingRect().height()) for box in boxes if box.isVisible()]
    shown = screen_rect(plots.graphics)
    return {"widget": shown, "heights": heights if shown[3] else []}


def _run(panel) -> dict:
    """The Train button, the status on the progress bar, the error shown (if any) and,
    once a GAN's live view shows, the size of its data space and its curves' heights."""
    state = {"train_button": screen_rect(panel.train_button),
             "status": panel.progress.status(),
             "error": panel.error_label.text() if panel.error_label.isVisible() else ""}  # fmt: skip
    gan = panel.plots.gan if getattr(panel, "built", False) else None
    if gan is not None and screen_rect(gan.graphics)[3]:
        space = gan.space.getViewBox().sceneBoundingRect()
        curves = [plot.getViewBox().sceneBoundingRect().height() for plot in gan.plots.values()]
        state["gan"] = {"mode": gan.mode, "epoch": gan.epoch,
                        "space": [round(space.width()), round(space.height())],
                        "heights": [round(height) for height in curves]}  # fmt: skip
    return state


def _spin_boxes(panel) -> list[dict]:
    boxes = panel.findChildren(QAbstractSpinBox)
    return [
        {"name": box.objectName(), "rect": screen_rect(box, whole=True), "value": box.text()}
        for box in boxes
        if screen_rect(box, whole=True)[2]
    ]


def _dock_tabs(window) -> dict:
    """The tabs of tabbed docks (Problems, Training): title -> on-screen rectangle."""
    tabs = {}
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window and screen_rect(bar)[2]:
            for index in range(bar.count()):
                rect = bar.tabRect(index)
                origin = bar.mapToGlobal(rect.topLeft())
                tabs[bar.tabText(index)] = [origin.x(), origin.y(), rect.width(), rect.height()]
    return tabs


def report(window) -> dict:
    """The window's on-screen layout and the document's state, as plain data."""
    document = window.document
    return {
        "window": screen_rect(window),
        "canvas": screen_rect(window.view),
        "docks": {name: screen_rect(dock) for name, dock in window.docks.items()},
        "dock_tabs": _dock_tabs(window),
        "plots": _plots(window.training_panel),
        "spin_boxes": _spin_boxes(window.training_panel),
        "run": _run(window.training_panel),
        "document": {
            "path": str(document.path) if document.path else None,
            "title": document.title,
            "modified": document.modified,
            "dataset": document.project.dataset,
            "training": document.project.training,
        },
        "modal": _modal_title(),
    }


def _modal_title() -> str | None:
    from PySide6.QtWidgets import QApplication

    modal = QApplication.activeModalWidget()
    return modal.windowTitle() if modal is not None else None


def install(window, path: str | None = None) -> QTimer | None:
    """Write ``report(window)`` to ``path`` (default ``$DEEPWIRE_TEST_REPORT``) when it
    changes; returns the timer, or None when no report was asked for."""
    path = path or os.environ.get(ENV_VAR)
    if not path:
        return None
    target = Path(path)
    last = {"text": "", "same": 0}

    def write() -> None:
        data = report(window)
        text = json.dumps(data, default=str)
        last["same"] = last["same"] + 1 if text == last["text"] else 0
        last["text"] = text
        data["unchanged_ticks"] = last["same"]  # the layout has settled when this grows
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, default=str))
        temporary.replace(target)  # readers never see half a report

    timer = QTimer(window)
    timer.setInterval(INTERVAL_MS)
    timer.timeout.connect(write)
    timer.start()
    return timer
