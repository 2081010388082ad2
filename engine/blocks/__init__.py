"""Blocks: small networks used as layers, each an instance of a reusable block type.

A ``BlockType`` is a network of its own (its Input nodes are the block's input ports,
its Output nodes its output ports, in node order) with exposed parameters that its
inner nodes may read (``bind``). The project keeps its block types in one
``BlockLibrary`` that all its networks share; a node whose ``type`` names a block type
is an instance, with its own parameter values and, once compiled, its own weights.
Editing the type changes every instance, as a component does in a drawing program.

Analysis, compilation and code export go through blocks: ``BlockSpec`` gives a block
type the interface of a ``LayerSpec``, and ``engine.blocks.resolve`` builds the inside
of one instance (its input shapes and parameter values filled in).
"""

from engine.blocks.block_type import BlockType, check_block_name
from engine.blocks.library import BlockLibrary

__all__ = ["BlockLibrary", "BlockType", "check_block_name"]
