"""The mouse wheel scrolls panels and never edits a field the user has not chosen.

Wheel events go through the window system (``QTest.wheelEvent`` on the window, as a
real mouse sends them), over spin boxes and combo boxes of the training settings, the
inspector and a dialog.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nodeeditor import commands
from nodeeditor.export_dialog import ExportDialog
from nodeeditor.wheel_guard import scroll_area_around
from tests.nodeeditor.app_helpers import show_training_panel

DOWN, UP = QPoint(0, -120), QPoint(0, 120)


def wheel(widget, delta: QPoint) -> None:
    """Turn the mouse wheel one notch with the cursor over ``widget``'s centre."""
    QApplication.processEvents()  # pending layout changes first: they move the widget
    window = widget.window()
    QTest.wheelEvent(window.windowHandle(), widget.mapTo(window, widget.rect().center()), delta)


def show_in_its_area(qtbot, field):
    """Scroll ``field``'s area until the field's centre is in sight; the area's bar."""
    area = scroll_area_around(field)
    bar = area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)  # the test needs an area that can scroll
    QApplication.processEvents()
    area.ensureWidgetVisible(field)
    qtbot.waitUntil(lambda: field.visibleRegion().contains(field.rect().center()))
    return bar


def scrolled_over(qtbot, field, delta=DOWN) -> int:
    """Wheel over ``field`` (unfocused, shown in its scroll area); how far the area moved."""
    bar = show_in_its_area(qtbot, field)
    before = bar.value()
    assert not field.hasFocus()
    wheel(field, delta)
    return bar.value() - before


def test_the_wheel_scrolls_the_training_settings_and_changes_none(qtbot, window):
    panel = show_training_panel(qtbot, window)
    form, stack = panel.training_form, window.document.undo_stack
    window.view.setFocus()
    steps = stack.count()
    assert scrolled_over(qtbot, form.batch_size) > 0
    assert scrolled_over(qtbot, form.optimizer) > 0
    assert scrolled_over(qtbot, form.epochs, UP) < 0
    assert form.batch_size.value() == 64 and form.optimizer.currentText() == "Adam"
    assert form.epochs.value() == window.document.project.training["epochs"]
    assert window.document.project.training["batch_size"] == 64
    assert stack.count() == steps and not window.document.modified


def test_a_field_with_the_focus_still_takes_the_wheel(qtbot, window):
    panel = show_training_panel(qtbot, window)
    form = panel.training_form
    show_in_its_area(qtbot, form.batch_size)
    form.batch_size.setFocus()
    qtbot.waitUntil(form.batch_size.hasFocus)
    wheel(form.batch_size, UP)
    assert form.batch_size.value() == 65
    assert window.document.project.training["batch_size"] == 65


def test_the_wheel_over_the_inspector_scrolls_it_and_leaves_the_layer_alone(qtbot, window):
    node_id = commands.add_node(window.document, "RNN", (0, 0))
    window.resize(1000, 420)  # the inspector's parameters no longer fit: it scrolls
    window.scene.select_nodes([node_id])
    inspector = window.inspector
    qtbot.waitUntil(lambda: inspector.node_id == node_id)
    window.view.setFocus()
    before = dict(window.document.network.node(node_id).params)
    steps = window.document.undo_stack.count()
    fields = inspector.fields
    assert scrolled_over(qtbot, fields["hidden_size"].editor) > 0
    assert scrolled_over(qtbot, fields["output"].editor, UP) < 0
    assert window.document.network.node(node_id).params == before
    assert window.document.undo_stack.count() == steps


@pytest.mark.parametrize("name", ["format_box", "source_box"])
def test_the_wheel_over_a_dialogs_combo_box_changes_nothing(qtbot, name):
    dialog = ExportDialog(None, None, "epoch 3 (val accuracy 97.0%)")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.output_edit.setFocus()
    combo = getattr(dialog, name)
    index = combo.currentIndex()
    wheel(combo, DOWN)
    wheel(combo, UP)
    wheel(combo, UP)
    assert combo.currentIndex() == index and not combo.hasFocus()
