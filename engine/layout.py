"""Automatic layout of a network: nodes placed in columns by topological layer.

``layered_positions`` gives each node a canvas position without touching the network:
a node's column is the length of the longest path of wires that reaches it, so data
flows left to right, and within a column nodes are ordered by the mean row of the
nodes feeding them (the barycentre heuristic), which removes most wire crossings.
Wires that form loops are ignored for the columns (the analysis reports the loop).
Nodes with no wire at all go in a last column so they do not hide the main flow.
"""

from __future__ import annotations

import networkx as nx

from engine.network import Network

COLUMN_WIDTH = 300.0  # a node (184) and room for the shape on the wire
ROW_HEIGHT = 140.0


def layered_positions(
    network: Network, column_width: float = COLUMN_WIDTH, row_height: float = ROW_HEIGHT
) -> dict[str, tuple[float, float]]:
    """Positions for every node of ``network``, by topological layer.

    Args:
        network: the network to lay out (not modified).
        column_width: horizontal distance between layers.
        row_height: vertical distance between nodes of one layer.

    Returns:
        ``{node_id: (x, y)}``; each column is centred on y = 0.
    """
    columns = _columns(network)
    rows: dict[str, float] = {}
    positions: dict[str, tuple[float, float]] = {}
    for index, column in enumerate(columns):
        column.sort(key=lambda node_id: _barycentre(network, node_id, rows))
        top = -(len(column) - 1) / 2
        for row, node_id in enumerate(column):
            rows[node_id] = top + row
            positions[node_id] = (index * column_width, (top + row) * row_height)
    return positions


def _columns(network: Network) -> list[list[str]]:
    """Node ids grouped by longest-path depth, isolated nodes in a final column."""
    order = {node.id: i for i, node in enumerate(network.nodes)}
    dag = nx.condensation(nx.DiGraph(network.graph))
    members = dag.graph["mapping"]  # node id -> component
    depth: dict[int, int] = {}
    for component in nx.topological_sort(dag):
        preds = list(dag.predecessors(component))
        depth[component] = 1 + max((depth[p] for p in preds), default=-1)
    columns: dict[int, list[str]] = {}
    isolated = []
    for node_id in sorted(members, key=order.__getitem__):
        if network.graph.degree(node_id) == 0:
            isolated.append(node_id)
        else:
            columns.setdefault(depth[members[node_id]], []).append(node_id)
    result = [columns[key] for key in sorted(columns)]
    if isolated:
        result.append(isolated)
    return result


def _barycentre(network: Network, node_id: str, rows: dict[str, float]) -> float:
    """Mean row of the already placed nodes feeding ``node_id`` (0 when none)."""
    placed = [rows[src] for src in network.graph.predecessors(node_id) if src in rows]
    return sum(placed) / len(placed) if placed else 0.0
