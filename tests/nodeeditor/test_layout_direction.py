"""View > Layout Direction: Auto-layout (Ctrl+L) and new projects from a template place
the nodes left to right or top to bottom, as the user chose; the choice is kept."""

from PySide6.QtCore import Qt

from nodeeditor.document import Document
from nodeeditor.files import example_templates
from nodeeditor.settings import Settings
from nodeeditor.window import MainWindow
from tests.nodeeditor.app_helpers import close_window

MAIN_PATH = ["input", "fc1", "act1", "fc2", "output"]  # the digits MLP example


def direction_action(window, text: str):
    """The Layout Direction entry ``text`` of the View menu, as a user finds it."""
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    submenu = next(a.menu() for a in view_menu.actions() if a.text() == "Layout &Direction")
    return next(a for a in submenu.actions() if a.text() == text)


def positions(window, ids):
    network = window.document.network
    return [network.node(node_id).pos for node_id in ids]


def test_top_to_bottom_then_ctrl_l_lays_the_flow_downwards_and_is_remembered(window, qtbot):
    top_to_bottom = direction_action(window, "&Top to Bottom")
    assert direction_action(window, "&Left to Right").isChecked()  # the default
    top_to_bottom.trigger()
    assert top_to_bottom.isChecked()
    window.activateWindow()
    qtbot.keyClick(window.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    xs, ys = zip(*positions(window, MAIN_PATH))
    assert list(ys) == sorted(ys) and len(set(ys)) == len(ys)  # y grows along the path
    assert len(set(xs)) == 1
    window.document.undo_stack.undo()  # Auto-layout is one undo step
    assert Settings().layout_direction() == "TB"
    again = MainWindow(Document(), Settings())  # the next start of the app
    qtbot.addWidget(again)
    assert direction_action(again, "&Top to Bottom").isChecked()
    close_window(again)
    direction_action(window, "&Left to Right").trigger()
    qtbot.keyClick(window.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    xs, ys = zip(*positions(window, MAIN_PATH))
    assert list(xs) == sorted(xs) and len(set(ys)) == 1


def test_a_new_project_from_a_template_is_laid_out_in_the_chosen_direction(window):
    direction_action(window, "&Top to Bottom").trigger()
    assert window.new_file(example_templates()["digits mlp"])
    xs, ys = zip(*positions(window, MAIN_PATH))
    assert list(ys) == sorted(ys) and len(set(ys)) == len(ys) and len(set(xs)) == 1
