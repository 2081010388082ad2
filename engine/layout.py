"""Automatic layout of a network: a layered drawing that stays readable when large.

``layered_positions`` gives each node a canvas position without touching the network:
a node's layer is the length of the longest path of wires that reaches it, so data
flows left to right (or top to bottom). The longest path of the network keeps one
row (its main path is straight); the other nodes of a layer go beside it, ordered by
the mean row of the nodes feeding them (the barycentre heuristic), which keeps
branches straight and removes most wire crossings. A drawing longer than
``MAX_ASPECT``:1 is folded into bands like lines of text (for left to right: the next
band below, starting again at the left), so a 200-layer network is a block, not a
24,000 px row. Wires that form loops are ignored for the layers (the analysis reports
the loop). Nodes with no wire at all go after the last layer, apart from the flow.
"""

from __future__ import annotations

import math
from collections import Counter

import networkx as nx

from engine.network import DIRECTIONS, Network

COLUMN_WIDTH = 300.0  # a node (184) and room for the shape on the wire
ROW_HEIGHT = 140.0
NODE_WIDTH = 184.0  # nodeeditor.canvas.style.NODE_WIDTH
NODE_HEIGHT = 77.0  # a node with up to three ports (nodeeditor.canvas.node_item)
MAX_ASPECT = 4.0  # a longer drawing is folded into bands
MIN_BAND_LAYERS = 12  # under 24 layers stay on one line: a fold there only loops wires back
BAND_GAP_ROWS = 1  # an empty row between bands, for the wires that wrap


def layered_positions(
    network: Network,
    column_width: float = COLUMN_WIDTH,
    row_height: float = ROW_HEIGHT,
    *,
    direction: str = "LR",
    max_aspect: float = MAX_ASPECT,
) -> dict[str, tuple[float, float]]:
    """Positions for every node of ``network``, by topological layer.

    Args:
        network: the network to lay out (not modified).
        column_width: horizontal distance between node origins (layers for "LR",
            nodes of one layer for "TB").
        row_height: vertical distance between node origins (nodes of one layer for
            "LR", layers for "TB").
        direction: "LR" (data flows left to right, bands stack downwards) or "TB"
            (top to bottom, bands side by side to the right).
        max_aspect: fold into bands when the drawing's long side exceeds this many
            times its short side.

    Returns:
        ``{node_id: (x, y)}``; the main path of the first band is at 0 across.

    Raises:
        ValueError: ``direction`` is neither "LR" nor "TB".
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"layout direction must be 'LR' or 'TB', not {direction!r}")
    layers, isolated = _layers(network)
    rows = _rows(network, layers)
    if direction == "LR":
        along_step, across_step, node_along, node_across = (
            column_width, row_height, NODE_WIDTH, NODE_HEIGHT,
        )  # fmt: skip
    else:
        along_step, across_step, node_along, node_across = (
            row_height, column_width, NODE_HEIGHT, NODE_WIDTH,
        )  # fmt: skip
    spans = [(min(rows[n] for n in layer), max(rows[n] for n in layer)) for layer in layers]
    steps = (along_step, across_step, node_along, node_across)
    per_band = _band_length(spans, steps, max_aspect)
    flow: dict[str, tuple[float, float]] = {}  # node -> (along, across) in grid units
    start = spans[0][0] if spans else 0
    for first in range(0, len(layers), per_band):
        band = range(first, min(first + per_band, len(layers)))
        low = min(spans[i][0] for i in band)
        high = max(spans[i][1] for i in band)
        for i in band:
            for node_id in layers[i]:
                flow[node_id] = (i - first, start + rows[node_id] - low)
        start += high - low + 1 + BAND_GAP_ROWS
    isolated_along = min(per_band, len(layers))
    first_across = spans[0][0] if spans else 0
    for k, node_id in enumerate(isolated):
        flow[node_id] = (isolated_along, first_across + k)
    positions = {}
    for node_id, (along, across) in flow.items():
        if direction == "LR":
            positions[node_id] = (along * along_step, across * across_step)
        else:
            positions[node_id] = (across * across_step, along * along_step)
    return positions


def lay_out(network: Network, direction: str = "LR") -> None:
    """Move every node of ``network`` to its ``layered_positions`` (an imported model,
    a new project from a template)."""
    for node_id, pos in layered_positions(network, direction=direction).items():
        network.move_node(node_id, pos)
    network.set_direction(direction)


def spread_stacked(network: Network) -> bool:
    """Lay out ``network`` when most of its nodes stand on top of one another (a file
    written without positions, or by a tool that gave every node the same one), so
    that it opens readable; returns whether it did. Block insides are spread too."""
    spread = False
    for block_type in network.library:
        spread |= _spread(block_type.network)
    return _spread(network) or spread


def _spread(network: Network) -> bool:
    counts = Counter(node.pos for node in network.nodes)
    stacked = sum(count for count in counts.values() if count > 1)
    if len(network) < 2 or stacked * 2 <= len(network):
        return False
    lay_out(network, network.direction)
    return True


def _layers(network: Network) -> tuple[list[list[str]], list[str]]:
    """Wired node ids grouped by longest-path depth, and the unwired node ids."""
    order = {node.id: i for i, node in enumerate(network.nodes)}
    dag = nx.condensation(nx.DiGraph(network.graph))
    members = dag.graph["mapping"]  # node id -> component
    depth: dict[int, int] = {}
    for component in nx.topological_sort(dag):
        preds = list(dag.predecessors(component))
        depth[component] = 1 + max((depth[p] for p in preds), default=-1)
    layers: dict[int, list[str]] = {}
    isolated = []
    for node_id in sorted(members, key=order.__getitem__):
        if network.graph.degree(node_id) == 0:
            isolated.append(node_id)
        else:
            layers.setdefault(depth[members[node_id]], []).append(node_id)
    return [layers[key] for key in sorted(layers)], isolated


def _main_path(network: Network, layers: list[list[str]]) -> set[str]:
    """The nodes of one longest path, walked back from the first node of the last layer."""
    if not layers:
        return set()
    layer_of = {node_id: i for i, layer in enumerate(layers) for node_id in layer}
    node_id = layers[-1][0]
    path = {node_id}
    while layer_of[node_id] > 0:
        wanted = layer_of[node_id] - 1
        feeds = [s for s in network.graph.predecessors(node_id) if layer_of.get(s) == wanted]
        if not feeds:
            break  # inside a loop: the rest of the layer is not reachable this way
        node_id = min(feeds, key=layers[wanted].index)
        path.add(node_id)
    return path


def _rows(network: Network, layers: list[list[str]]) -> dict[str, int]:
    """A row for every wired node: 0 for the main path, branches on either side."""
    main = _main_path(network, layers)
    rows: dict[str, int] = {}
    for layer in layers:
        wanted = {n: _barycentre(network, n, rows) for n in layer if n not in main}
        below = sorted((n for n in wanted if wanted[n] >= 0), key=wanted.__getitem__)
        above = sorted((n for n in wanted if wanted[n] < 0), key=wanted.__getitem__)
        last = 0
        for node_id in below:  # nearest the main path first, each at its wanted row if free
            last = max(last + 1, round(wanted[node_id]))
            rows[node_id] = last
        last = 0
        for node_id in reversed(above):
            last = min(last - 1, round(wanted[node_id]))
            rows[node_id] = last
        for node_id in layer:
            if node_id in main:
                rows[node_id] = 0
    return rows


def _band_length(spans, steps, max_aspect: float) -> int:
    """Layers per band: the fewest bands that keep the drawing within ``max_aspect``:1.

    When no fold qualifies (bands would be shorter than MIN_BAND_LAYERS, or the
    drawing gets too deep), the fold with the most square drawing is taken.
    """
    count = len(spans)
    if count == 0:
        return 1
    along_step, across_step, node_along, node_across = steps
    best, best_aspect = count, math.inf
    for bands in range(1, max(1, count // MIN_BAND_LAYERS) + 1):
        per_band = math.ceil(count / bands)
        rows = 0
        for first in range(0, count, per_band):
            band = spans[first : first + per_band]
            rows += max(s[1] for s in band) - min(s[0] for s in band) + 1 + BAND_GAP_ROWS
        along = (per_band - 1) * along_step + node_along
        across = (rows - BAND_GAP_ROWS - 1) * across_step + node_across
        aspect = max(along, across) / min(along, across)
        if aspect <= max_aspect:
            return per_band
        if aspect < best_aspect:
            best, best_aspect = per_band, aspect
    return best


def _barycentre(network: Network, node_id: str, rows: dict[str, int]) -> float:
    """Mean row of the already placed nodes feeding ``node_id`` (0 when none)."""
    placed = [rows[src] for src in network.graph.predecessors(node_id) if src in rows]
    return sum(placed) / len(placed) if placed else 0.0
