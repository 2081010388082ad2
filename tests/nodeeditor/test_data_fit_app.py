"""The network against its dataset in the app: the Problems list and the node say what
to change, and "Apply to network" fixes the Input and the last layer in one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nodeeditor import commands
from tests.nodeeditor.app_helpers import show_training_panel


def problems(window) -> list[str]:
    window.document.reanalyze_now()
    items = window.diagnostics.list
    return [items.item(i).text() for i in range(items.count())]


def test_a_last_layer_that_does_not_fit_the_classes_is_shown_in_problems_and_on_the_node(
    qtbot, window
):
    commands.set_params(window.document, "fc2", {"out_features": 32})
    expected = "fc2: Linear gives 32 outputs but digits has 10 classes; set out_features to 10"
    qtbot.waitUntil(lambda: any(text.startswith(expected) for text in problems(window)))
    item = window.scene.node_item("fc2")
    assert item.mark == "warning" and expected in item.toolTip()


def test_choosing_a_dataset_checks_the_network_against_it_and_undo_takes_it_back(qtbot, window):
    panel = show_training_panel(qtbot, window)
    panel.dataset_form.name_box.setCurrentText("iris")
    qtbot.waitUntil(lambda: len(problems(window)) == 1)
    (text,) = problems(window)  # the output is judged after the input fits
    assert text == (
        "input: the Input takes (64,) but iris samples are (4,); set the Input's shape to (4,)"
    )
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: problems(window) == ["No problems: the network can be trained."])


def test_apply_to_network_sets_the_input_and_the_last_layer_as_one_undo_step(qtbot, window):
    panel = show_training_panel(qtbot, window)
    document = window.document
    commands.set_params(document, "input", {"shape": [28, 28]})
    commands.set_params(document, "fc2", {"out_features": 32})
    panel.dataset_form.name_box.setCurrentText("wine")
    qtbot.waitUntil(lambda: panel.dataset is not None and panel.dataset.name == "wine")
    assert panel.apply_button.isEnabled()
    steps = document.undo_stack.count()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    network = document.network
    assert network.node("input").params["shape"] == (13,)
    assert network.node("fc2").params["out_features"] == 3
    assert document.undo_stack.count() == steps + 1
    assert problems(window) == ["No problems: the network can be trained."]
    assert not panel.apply_button.isEnabled()
    document.undo_stack.undo()
    assert network.node("input").params["shape"] == (28, 28)
    assert network.node("fc2").params["out_features"] == 32


def test_the_settings_form_shows_the_labels_the_doctor_uses(qtbot, window):
    from engine.training.config import label

    panel = show_training_panel(qtbot, window)
    form = panel.training_form.layout()
    shown = {form.labelForField(panel.training_form.lr).text(),
             form.labelForField(panel.training_form.weight_decay).text(),
             form.labelForField(panel.training_form.epochs).text()}  # fmt: skip
    assert shown == {label("optimizer.lr"), label("optimizer.weight_decay"), label("epochs")}
