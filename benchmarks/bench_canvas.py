"""Canvas speed on a generated 300-node network (run on demand, never in tests).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_canvas.py

Prints the median and worst of:
- edit -> canvas updated: a command (change a parameter, add a wire) until the
  document's analysis has run, the items follow it and the viewport is rendered into
  a QImage (goal < 33 ms);
- drag frame: one mouse step of a node with long wires (its wires re-routed) and the
  viewport rendered into a QImage (goal < 16 ms), with and without the fast mode that
  draws long wires without antialiasing while dragging (PITFALLS #8).
Each figure is printed with its ratio to the goal.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from engine.layout import layered_positions
from engine.network import Network
from engine.project import Project
from nodeeditor import commands
from nodeeditor.canvas.scene import NetworkScene
from nodeeditor.canvas.view import NetworkView
from nodeeditor.document import Document

NODES = 300
REPEATS = 25


def residual_network(size: int = NODES) -> Network:
    """Input -> blocks of Linear, ReLU, Add(skip from 4 nodes back)... -> Output."""
    network = Network()
    network.add_node("Input", {"shape": [64]}, node_id="x")
    ids = ["x"]
    while len(ids) < size - 1:
        k = len(ids)
        if k % 4 == 3 and "Add" in _catalogue():
            node_id = network.add_node("Add", node_id=f"add{k}").id
            network.connect(ids[-1], "out", node_id, "in1")
            network.connect(ids[-3], "out", node_id, "in2")
        else:
            kind, params = ("Linear", {"out_features": 64}) if k % 2 else ("ReLU", {})
            node_id = network.add_node(kind, params, node_id=f"n{k}").id
            network.connect(ids[-1], "out", node_id, "in")
        ids.append(node_id)
    network.add_node("Output", node_id="y")
    network.connect(ids[-1], "out", "y", "in")
    # 20 layers a row: the wires from one row to the next are long
    positions = layered_positions(network, 240, 140, max_aspect=float("inf"))  # one row
    for node in network.nodes:
        x, y = positions[node.id]
        column = int(x // 240)
        node.pos = ((column % 20) * 240.0, (column // 20) * 260.0 + y)
    return network


def _catalogue():
    from engine.layers import CATALOGUE

    return CATALOGUE


def render(view: NetworkView) -> QImage:
    """Paint the whole viewport into a QImage, as a full frame would.

    ``grab`` paints through the viewport's paintEvent, so the nodes' device caches
    are used and kept valid exactly as on screen (``QGraphicsView.render`` into a
    QImage keeps a separate cache that item updates do not refresh).
    """
    return view.viewport().grab().toImage()


def timed(action, repeats: int = REPEATS) -> list[float]:
    """Milliseconds of each run of ``action``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name: str, times: list[float], goal: float) -> None:
    median = statistics.median(times)
    print(
        f"{name:<48} median {median:6.1f} ms  worst {max(times):6.1f} ms  "
        f"goal {goal:.0f} ms  ratio {median / goal:.2f}"
    )


def main() -> None:
    app = QApplication.instance() or QApplication([])
    start = time.perf_counter()
    document = Document(Project({"model": residual_network()}))
    scene = NetworkScene(document)
    view = NetworkView(scene)
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (figures scale with it)"
    )
    print(
        f"{len(document.network)} nodes, {len(document.network.wires)} wires; "
        f"document + scene + view built in {(time.perf_counter() - start) * 1000:.0f} ms"
    )
    linear = next(n.id for n in document.network.nodes if n.type == "Linear")
    view.centerOn(scene.node_item(linear).pos())

    sizes = iter([48, 64] * REPEATS)
    biases = iter([False, True] * REPEATS)

    def change_size():
        commands.set_params(document, linear, {"out_features": next(sizes)})
        app.processEvents()  # the coalesced analysis, the items following it, a paint
        render(view)

    def change_bias():
        commands.set_params(document, linear, {"bias": next(biases)})
        app.processEvents()
        render(view)

    wire = document.network.wire_into("y", "in")

    def add_wire():
        document.network.disconnect(wire)  # not timed separately: half the cycle
        app.processEvents()
        t = time.perf_counter()
        commands.connect(document, wire.src, wire.src_port, wire.dst, wire.dst_port)
        app.processEvents()
        render(view)
        return time.perf_counter() - t

    analysis = timed(document.reanalyze_now)
    report("analysis alone (engine)", analysis, 33)
    report("edit bias -> canvas updated (local change)", timed(change_bias), 33)
    report("edit out_features -> canvas updated (all shapes)", timed(change_size), 33)
    wire_times = [add_wire() * 1000 for _ in range(REPEATS)]
    report("add wire -> canvas updated", wire_times, 33)

    for zoom_name, fit in (("100% zoom", False), ("whole network", True)):
        if fit:
            view.fit()
        node = _node_with_longest_wires(document, scene)
        item = scene.node_item(node)
        origin = item.pos()
        view.centerOn(origin)
        if fit:
            view.fit()
        for fast in (True, False):
            steps = iter(range(10**6))

            def drag_frame(fast=fast, steps=steps, item=item, origin=origin):
                scene.fast_mode = fast
                k = next(steps)
                item.setPos(origin + QPointF(3 * (k % 20), 2 * (k % 20)))
                render(view)

            name = f"drag frame, {zoom_name}, {'fast mode' if fast else 'antialiased'}"
            report(name, timed(drag_frame), 16)
        scene.fast_mode = False
        item.setPos(origin)
    view.close()
    scene.detach()


def _node_with_longest_wires(document, scene) -> str:
    def length(node_id):
        total = 0.0
        for w in document.network.wires_of(node_id):
            a = scene.wire_item(w).src_port.scenePos()
            b = scene.wire_item(w).dst_port.scenePos()
            total += (a - b).manhattanLength()
        return total

    return max((n.id for n in document.network.nodes), key=length)


if __name__ == "__main__":
    main()
