"""Blocks in the window against hostile files and clipboards: each is refused with one
sentence and the work on screen stays as it was; odd but valid files open, open up
and save back the same."""

from __future__ import annotations

import json

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from safetensors.torch import save_file

from engine import project as project_file
from engine.compile import compile_network
from nodeeditor import block_actions
from tests.engine.test_blocks_hostile import chain_block
from tests.nodeeditor.app_helpers import close_window, record_errors
from tests.nodeeditor.test_blocks_ui import (
    CTRL,
    blocks_project,
    click,
    double_click,
    dumps,
    key,
    open_blocks_window,
)


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_blocks_window(qtbot, monkeypatch, tmp_path)
    yield window
    close_window(window)


def project_data(tmp_path) -> dict:
    return json.loads(blocks_project(tmp_path).read_text())


def paste_text(qtbot, window, text: str) -> None:
    QGuiApplication.clipboard().setText(text)
    key(qtbot, window, Qt.Key.Key_V, CTRL)


def selection(nodes, blocks) -> str:
    return json.dumps({"deepwire": "nodes", "nodes": nodes, "edges": [], "blocks": blocks})


WIDEN_USE = [{"id": "w", "type": "Widen", "pos": [0, 400]}]
DAMAGED = {
    "blocks not an object": selection(WIDEN_USE, [1, 2]),
    "a block holding itself": selection(
        [{"id": "a", "type": "A"}], {"A": {"nodes": [{"id": "a", "type": "A"}]}}
    ),
    "nodes that are text": selection([{"id": "a", "type": "A"}], {"A": {"nodes": "abc"}}),
    "an edge of three ends": selection(
        [{"id": "a", "type": "A"}],
        {
            "A": {
                "nodes": [{"id": "r", "type": "ReLU"}],
                "edges": [{"from": ["r", "out", "x"], "to": ["r", "in"]}],
            }
        },
    ),
    "a position of NaN": selection([{"id": "r", "type": "ReLU", "pos": [float("nan"), 0]}], {}),
}


@pytest.mark.parametrize("case", DAMAGED, ids=str)
def test_ctrl_v_of_a_damaged_block_says_why_and_changes_nothing(window, qtbot, case):
    before = dumps(window)
    paste_text(qtbot, window, DAMAGED[case])
    message = window.statusBar().currentMessage()
    assert message and "\n" not in message and "Traceback" not in message
    assert dumps(window) == before
    assert window.document.undo_stack.count() == 0


def test_pasting_into_a_block_a_copy_of_a_block_that_holds_it_is_refused(window, qtbot):
    click(window, "p")  # Pair holds two Widen blocks
    key(qtbot, window, Qt.Key.Key_C, CTRL)
    double_click(qtbot, window, "r1")  # inside Widen
    before = dumps(window)
    key(qtbot, window, Qt.Key.Key_V, CTRL)
    assert "Pair holds Widen" in window.statusBar().currentMessage()
    assert dumps(window) == before
    assert [n.id for n in window.scene.network.nodes] == ["x", "conv", "relu", "out"]


def doubling(data: dict) -> dict:
    """Blocks D1..D17 that each hold two of the one before: millions of nodes opened."""
    inner = "Widen"
    for level in range(1, 18):
        data["blocks"][f"D{level}"] = chain_block(f"D{level}", inner, (4, 6, 6))
        inner = f"D{level}"
    return data


def far_away(data: dict) -> dict:
    data["networks"]["model"]["nodes"][1]["pos"] = [1e300, 0]
    return data


def named_input(data: dict) -> dict:
    data["blocks"]["Input"] = data["blocks"].pop("Widen")
    return data


HOSTILE_FILES = {
    "blocks that double at each level": (doubling, "more than 100,000 nodes"),
    "a position of 1e300": (far_away, "a position must be two numbers within"),
    "a block named Input": (named_input, "Input is a layer type already"),
}


@pytest.mark.parametrize("case", HOSTILE_FILES, ids=str)
def test_opening_a_hostile_block_file_says_why_and_keeps_the_work(
    window, tmp_path, monkeypatch, case
):
    make, reason = HOSTILE_FILES[case]
    path = tmp_path / "hostile.dwire"
    path.write_text(json.dumps(make(project_data(tmp_path))))
    shown = record_errors(monkeypatch)
    before = dumps(window)
    assert not window.open_file(path)
    assert len(shown) == 1 and reason in shown[0] and "\n" not in shown[0]
    assert dumps(window) == before


def odd_but_valid(data: dict) -> dict:
    """``expanded`` on a layer and inside a block, and a block whose Input is called
    ``out`` and whose Output is called ``x``."""
    widen = data["blocks"]["Widen"]
    for node in widen["nodes"]:
        node["id"] = {"x": "out", "out": "x"}.get(node["id"], node["id"])
        node["expanded"] = node["type"] == "Conv2d"
    for edge in widen["edges"]:
        for end in ("from", "to"):
            edge[end][0] = {"x": "out", "out": "x"}.get(edge[end][0], edge[end][0])
    model = data["networks"]["model"]
    for edge in [*model["edges"], *data["blocks"]["Pair"]["edges"]]:
        for end, port in (("to", "x"), ("from", "out")):
            if edge[end][0] in ("r1", "r2", "w1", "w2"):
                edge[end][1] = "out" if port == "x" else "x"
    model["nodes"][4]["expanded"] = True  # flat: a Flatten, not a block
    return data


def test_an_odd_but_valid_block_file_opens_opens_up_and_saves_back_the_same(
    window, qtbot, tmp_path
):
    path = tmp_path / "odd.dwire"
    path.write_text(json.dumps(odd_but_valid(project_data(tmp_path))))
    assert window.open_file(path)
    assert window.document.analysis.ok, window.document.analysis.diagnostics
    blocks = [n.id for n in window.document.network.nodes if n.is_block]
    block_actions.set_expanded(window.scene, blocks, True)
    qtbot.wait(5)
    double_click(qtbot, window, "p")
    double_click(qtbot, window, "w1")
    assert window.breadcrumb.names == ["model", "p (Pair)", "w1 (Widen)"]
    block_actions.leave(window.view, 0)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)  # close the blocks again
    saved = tmp_path / "saved.dwire"
    assert window.save_as(saved)
    assert project_file.dumps(project_file.load(saved)) == project_file.dumps(
        project_file.load(path)
    )


def test_load_weights_of_a_network_of_blocks_keeps_the_nested_keys(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    torch.manual_seed(1)
    own = compile_network(window.document.network).state_dict()
    state = {k: torch.randn_like(v) for k, v in own.items()}
    assert "p.w2.conv.weight" in state
    path = tmp_path / "trained.safetensors"
    save_file(state, str(path))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.actions_by_name["load_weights"].trigger()
    kept = window.training_panel.kept
    assert kept is not None and kept.source == "loaded from trained.safetensors"
    assert torch.equal(kept.state["p.w2.conv.weight"], state["p.w2.conv.weight"])
