"""The inside of one block instance: the type's network with the instance's input
shapes and parameter values filled in.

Analysis, compilation and code export all read an instance through ``resolve``, so a
block means the same thing everywhere. Problems (a binding to a parameter the block
does not expose, a value of the wrong type) come back as ``(node id, sentence)`` pairs
rather than exceptions, so that the analysis can show them on the nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import DeepwireError

if TYPE_CHECKING:
    from engine.blocks.block_type import BlockType
    from engine.layers.spec import Shape
    from engine.network import Network

MAX_DEPTH = 32  # blocks inside blocks; a file nesting deeper is refused on load
# nodes of a block or network with every block in it opened: blocks that each hold two
# of the one before open a few lines of file into millions of layers
MAX_NODES = 100_000


def resolve(
    block_type: BlockType,
    params: dict,
    shapes: list[Shape] | None = None,
    dtypes: list[str] | None = None,
) -> tuple[Network, list[tuple[str, str]]]:
    """A copy of the inside of ``block_type`` for one instance.

    Args:
        block_type: the type.
        params: the instance's exposed parameter values (checked by the caller).
        shapes: the shapes arriving at its inputs, in port order; None keeps the
            example shapes of the type's Input nodes.
        dtypes: ``"float"`` or ``"long"`` per input, with ``shapes`` (None: floats).

    Returns:
        ``(network, problems)``: the copy (its nodes no longer bound) and the bindings
        that could not be applied, as ``(node id, sentence)``.
    """
    network = block_type.network.copy()
    if shapes is not None:
        dtypes = dtypes or ["float"] * len(shapes)
        for node_id, shape, dtype in zip(block_type.input_names(), shapes, dtypes):
            value = {"shape": list(shape), "dtype": "int64" if dtype == "long" else "float32"}
            network.set_params(node_id, value, check=False)
    problems = []
    for node in network.nodes:
        if not node.bind:
            continue
        values = {}
        for name, source in node.bind.items():
            if source not in params:
                problems.append(
                    (
                        node.id,
                        f"{node.id}: {name} reads the block parameter {source}, which "
                        f"{block_type.name} does not have",
                    )
                )
                continue
            values[name] = params[source]
        try:
            network.set_params(node.id, values, check=False)
        except DeepwireError as error:
            problems.append((node.id, f"{node.id}: {error} (from the block's parameters)"))
        network.set_bind(node.id, {})
    return network, problems
