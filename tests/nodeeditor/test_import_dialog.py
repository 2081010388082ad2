"""File > Import Model…: the dialog, the import behind the progress dialog, the project opened."""

import os
import textwrap

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from nodeeditor.import_dialog import RUNS_CODE, ImportDialog, model_names
from nodeeditor.progress_dialog import ProgressDialog
from tests.nodeeditor.app_helpers import EXAMPLE, copy_of, record_errors
from tests.nodeeditor.progress_helpers import watch_progress, when

TINY = """\
import torch.nn as nn


def helper():
    return 3


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(36, 3)

    def forward(self, x):
        return self.fc(x)


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.head = Head()

    def forward(self, x):
        return self.head(self.flat(self.pool(self.act(self.conv(x)))))
"""


def _write(folder, name: str, text: str):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _dialog(qtbot) -> ImportDialog:
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_python_file_offers_its_classes_without_running_it(qtbot, tmp_path):
    model = _write(tmp_path, "net.py", TINY + "\nraise SystemExit('ran')\n")
    dialog = _dialog(qtbot)
    qtbot.keyClicks(dialog.model_edit, str(model))
    names = [dialog.entry_box.itemText(i) for i in range(dialog.entry_box.count())]
    assert names == ["TinyNet", "helper", "Head"]  # the last Module subclass first
    assert dialog.entry_box.currentText() == "TinyNet"
    assert dialog.code_label.text() == RUNS_CODE and dialog.code_label.isVisible()
    assert not dialog.problem_label.isVisible()
    assert dialog.output_edit.text() == str(tmp_path / "net.dwire")
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # the input shape is missing: said, and the inputs stay
    assert "shape" in dialog.problem_label.text() and dialog.problem_label.isVisible()
    qtbot.keyClicks(dialog.shapes_edit, "1,8,0")
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert "positive sizes" in dialog.problem_label.text()  # the engine's own sentence


@pytest.mark.parametrize(
    "text", ["def broken(:\n", "x = 1\n", "\0\0binary", "(" * 200_000], ids=str.__len__
)
def test_unreadable_python_offers_no_names(tmp_path, text):
    assert model_names(_write(tmp_path, "bad.py", text)) == []


def test_an_onnx_file_needs_no_class_and_shows_it_is_not_run(qtbot, tmp_path):
    existing = copy_of(EXAMPLE, tmp_path)
    onnx = tmp_path / "digits_mlp.onnx"
    onnx.write_bytes(b"")
    dialog = _dialog(qtbot)
    qtbot.keyClicks(dialog.model_edit, str(onnx))
    assert not dialog.entry_box.isEnabled() and not dialog.state_edit.isEnabled()
    assert "not run" in dialog.code_label.text()
    assert dialog.output_edit.text() == str(existing)  # exists: what is replaced is said
    assert "digits_mlp.dwire.bak" in dialog.replaced_label.text()
    choice = dialog.choice()
    assert choice.shapes == () and choice.arguments()[:2] == [str(onnx), "-o"]


def _import_via_menu(qtbot, window, model, shapes: str = "", state_dict=None) -> None:
    """File > Import Model…, the dialog filled in by typing, Import clicked; returns
    once the import has ended."""

    def fill():
        dialog = window.findChild(ImportDialog)
        qtbot.keyClicks(dialog.model_edit, str(model))
        qtbot.keyClicks(dialog.shapes_edit, shapes)
        if state_dict is not None:
            qtbot.keyClicks(dialog.state_edit, str(state_dict))
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)

    dialog_shown = lambda: (d := window.findChild(ImportDialog)) is not None and d.isVisible()  # noqa: E731
    when(dialog_shown, fill)
    action = window.actions_by_name["import_model"]
    assert action in window.menus["file"].actions()
    action.trigger()


def _tensors(state) -> list[tuple]:
    """The tensors of a state_dict by shape and value, whatever their keys."""
    return sorted((tuple(t.shape), round(float(t.double().sum()), 4)) for t in state.values())


def test_a_python_model_opens_as_a_project_with_its_weights(qtbot, monkeypatch, tmp_path, window):
    import torch

    model = _write(tmp_path, "tiny.py", TINY)
    namespace = {}
    exec(TINY, namespace)  # the test's own copy of the model, for its trained weights
    torch.manual_seed(3)
    state = namespace["TinyNet"]().state_dict()
    torch.save(state, tmp_path / "tiny.pt")
    errors = record_errors(monkeypatch)
    seen = watch_progress(monkeypatch)
    _import_via_menu(qtbot, window, model, "1,8,8", tmp_path / "tiny.pt")
    assert errors == []
    assert window.document.path == tmp_path / "tiny.dwire" and not window.document.modified
    types = {node.type for node in window.document.network.nodes}
    assert {"Conv2d", "ReLU", "MaxPool2d", "Flatten"} <= types
    kept = window.training_panel.kept
    assert kept is not None and "tiny.safetensors" in kept.source
    assert _tensors(kept.state) == _tensors(state)  # the model's own weights, kept
    assert (tmp_path / "tiny.safetensors").is_file()
    stages = [text for text, _ in seen]
    assert stages[0] == "Starting the process that imports the model…"
    assert all(shown for _, shown in seen) and len(set(stages)) >= 3
    assert "Imported TinyNet" in window.statusBar().currentMessage()


def _tiny_onnx(path) -> dict:
    """An ONNX file written by hand: Gemm, Relu, Gemm with a free batch; its weights."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = {
        "w1": rng.standard_normal((8, 4)).astype(np.float32),
        "b1": rng.standard_normal(8).astype(np.float32),
        "w2": rng.standard_normal((3, 8)).astype(np.float32),
        "b2": rng.standard_normal(3).astype(np.float32),
    }
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(value, name) for name, value in weights.items()],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return weights


def test_an_onnx_file_opens_as_a_project_with_its_weights(qtbot, monkeypatch, tmp_path, window):
    import torch

    weights = _tiny_onnx(tmp_path / "tiny.onnx")
    errors = record_errors(monkeypatch)
    _import_via_menu(qtbot, window, tmp_path / "tiny.onnx")  # no shape: the file gives it
    assert errors == []
    assert window.document.path == tmp_path / "tiny.dwire"
    assert [n.type for n in window.document.network.nodes].count("Linear") == 2
    kept = window.training_panel.kept
    expected = {name: torch.from_numpy(value) for name, value in weights.items()}
    assert _tensors(kept.state) == _tensors(expected)


def test_a_model_that_fails_shows_why_and_keeps_the_project(qtbot, monkeypatch, tmp_path, window):
    model = _write(
        tmp_path,
        "broken.py",
        """\
        import torch.nn as nn


        class Broken(nn.Module):
            def __init__(self):
                super().__init__()
                raise ValueError("this model needs its config file")
        """,
    )
    document, path = window.document, window.document.path
    errors = record_errors(monkeypatch)
    _import_via_menu(qtbot, window, model, "1,8,8")
    assert len(errors) == 1 and "this model needs its config file" in errors[0]
    assert window.document is document and document.path == path
    assert not (tmp_path / "broken.dwire").exists()


def test_cancel_ends_the_models_process_and_writes_nothing(qtbot, monkeypatch, tmp_path, window):
    pid_file = tmp_path / "pid"
    model = _write(
        tmp_path,
        "slow.py",
        f"""\
        import os, time
        import torch.nn as nn


        class Slow(nn.Module):
            def __init__(self):
                super().__init__()
                open({str(pid_file)!r}, "w").write(str(os.getpid()))
                time.sleep(600)
        """,
    )
    document = window.document
    errors = record_errors(monkeypatch)

    def cancel():
        progress = window.findChild(ProgressDialog)
        qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
        assert progress.stage_label.text() == "Stopping the import…"

    when(lambda: pid_file.is_file() and pid_file.read_text(), cancel)  # its code is running
    _import_via_menu(qtbot, window, model, "1,8,8")
    assert errors == [] and window.document is document
    assert "cancelled" in window.statusBar().currentMessage()
    assert not (tmp_path / "slow.dwire").exists() and not (tmp_path / "slow.safetensors").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # the child is gone, not left sleeping


def test_unsaved_work_is_asked_about_before_anything_runs(qtbot, monkeypatch, tmp_path, window):
    model = _write(tmp_path, "tiny.py", TINY)
    window.add_layer_at_centre("ReLU")
    asked = []

    def answer(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", answer)
    document = window.document
    _import_via_menu(qtbot, window, model, "1,8,8")
    assert len(asked) == 1 and "not saved" in asked[0]
    assert window.document is document and document.modified
    assert not (tmp_path / "tiny.dwire").exists()
