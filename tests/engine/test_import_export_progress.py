"""Importing and exporting a big model tell their stages while they run, and can be
cancelled without leaving anything written.

Importing torchvision's densenet121 took 36 s and exporting it to ONNX 41 s with nothing
shown; each now reports its stages (``engine.progress``) to the command line and the app.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading

import pytest
import torch

from engine import progress as progress_module
from engine import project
from engine.cli import build_parser, main
from engine.commands.importing import import_to_files
from engine.export import ExportError, export
from engine.importer import import_model
from engine.progress import Cancelled, Progress
from tests.engine.test_import_cli import EXAMPLE

CNN = textwrap.dedent(
    """
    import time
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            time.sleep({sleep})
            self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
            self.fc = torch.nn.Linear(4 * 8 * 8, 3)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))
    """
)


def import_args(tmp_path, sleep=0):
    model = tmp_path / "net.py"
    model.write_text(CNN.format(sleep=sleep))
    argv = ["import", f"{model}:Net", "--input-shape", "1,8,8", "-o", str(tmp_path / "net.dwire")]
    return build_parser().parse_args([*argv, "--weights-out", str(tmp_path / "net.safetensors")])


def test_an_import_reports_the_child_stages_in_order_and_writes_the_files(tmp_path):
    seen: list[Progress] = []
    imported = import_to_files(import_args(tmp_path), seen.append)
    stages = [event.stage for event in seen]
    expected = [
        "starting the process that imports the model",
        "running the model's code",
        "tracing the model with torch.fx",
        "building the network",
        "checking the outputs against the model",
        "writing net.dwire",
    ]
    assert [name for name in stages if name in expected] == expected
    assert imported.output == tmp_path / "net.dwire" and imported.class_name == "Net"
    assert project.load(imported.output).network.node("conv").type == "Conv2d"
    assert imported.weights_out.stat().st_size > 4 * 9 * 4
    assert imported.lines[0] == f"imported Net: {imported.nodes} nodes -> {imported.output}"


def test_cancelling_an_import_ends_the_child_and_writes_nothing(tmp_path):
    cancel = threading.Event()
    started = []

    def progress(event):
        if event.stage == "running the model's code":  # the constructor now sleeps 60 s
            started.append(event)
            cancel.set()

    with pytest.raises(Cancelled, match="cancelled; nothing was written"):
        import_to_files(import_args(tmp_path, sleep=60), progress, cancel)
    assert started
    assert not (tmp_path / "net.dwire").exists()
    assert not (tmp_path / "net.safetensors").exists()


ONNX_STAGES = [
    "preparing the network",
    "capturing the graph with torch.export",
    "translating the graph to ONNX",
    "optimizing the ONNX graph",
    "checking the ONNX file",
]


@pytest.mark.parametrize(
    ("fmt", "name", "stages"),
    [
        ("onnx", "m.onnx", ONNX_STAGES),
        ("program", "m.pt2", [*ONNX_STAGES[:2], "writing m.pt2"]),
        ("safetensors", "m.safetensors", [ONNX_STAGES[0], "writing m.safetensors"]),
    ],
)
def test_an_export_reports_each_stage_and_when_cancelled_leaves_the_old_file(
    tmp_path, fmt, name, stages
):
    target = tmp_path / name
    target.write_bytes(b"the user's earlier export")
    seen = []

    def progress(event):
        seen.append(event.stage)
        if event.stage == stages[-1]:  # the last stage: the new file is all but written
            raise Cancelled("the export was cancelled")

    network = project.load(EXAMPLE).network
    with pytest.raises(Cancelled):
        export(network, fmt, target, progress=progress)
    assert seen == stages
    assert target.read_bytes() == b"the user's earlier export"
    assert os.listdir(tmp_path) == [name]  # no temporary file left beside it


def test_the_export_command_prints_its_long_stages_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "AFTER_S", 0.0)  # every stage counts as long
    shown = []
    monkeypatch.setattr(
        "engine.progress_console.ConsoleProgress.__call__",
        lambda self, event: shown.append(event.stage),
    )
    code = main(["export", str(EXAMPLE), "-f", "program", "-o", str(tmp_path / "m.pt2")])
    assert code == 0
    assert shown == ["preparing the network", "capturing the graph with torch.export",
                     "writing m.pt2"]  # fmt: skip
    assert "wrote" in capsys.readouterr().out


class Stage(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.act = torch.nn.Linear(6, 6), torch.nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))


class Stages(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = torch.nn.Sequential(Stage(), Stage(), Stage())

    def forward(self, x):
        return self.stages(x)


def test_grouping_modules_into_blocks_counts_the_modules(monkeypatch):
    monkeypatch.setattr(progress_module, "AFTER_S", 0.0)  # report however quick
    monkeypatch.setattr(progress_module, "EVERY_S", 0.0)
    seen = []
    result = import_model(Stages(), input_shapes=[(6,)], progress=seen.append)
    counted = [e for e in seen if e.stage == "grouping the model's modules into blocks"]
    assert counted[0] == Progress(counted[0].stage)  # announced before it is counted
    assert [(e.done, e.total) for e in counted[1:]] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert len(result.network.library) == 1  # the three modules share one block type


def test_onnx_export_without_its_packages_is_a_sentence(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as in a Python without it
    network = project.load(EXAMPLE).network
    with pytest.raises(ExportError, match="needs the onnxscript package, which this Python"):
        export(network, "onnx", tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())
