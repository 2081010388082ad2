"""The inside of an entered block, seen as a document the canvas and inspector can edit.

Entering a block instance shows its block type's inside network. ``BlockLevel`` gives
that network the interface of a ``NetworkPage`` (``network``, ``undo_stack``,
``analysis``, ``analysis_changed``), so the scene, the view, the inspector and
nodeeditor.commands edit it unchanged:

- its ``analysis`` is the analysis of the entered instance's inside (the shapes that
  really arrive there), taken from the level above each time that one is analysed;
- its ``undo_stack`` is the page's, so one Ctrl+Z undoes edits inside and outside in
  the order they were made. Each edit goes on it wrapped in ``InsideBlock``, which
  finds the type's inside by name when applied: undoing the grouping and redoing it
  builds a new BlockType object, and the edits made inside must reach that one.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, Signal

from engine.analysis import Analysis, analyze
from engine.edits.blocks import InsideBlock
from engine.errors import DeepwireError
from nodeeditor.commands import EditCommand


class _InsideStack:
    """The page's undo stack as seen from inside a block: edit commands pushed here go
    on the page's stack wrapped in ``InsideBlock``; everything else is the page's."""

    def __init__(self, level: BlockLevel):
        self._level = level

    def push(self, command) -> None:
        level = self._level
        if isinstance(command, EditCommand):
            edit = InsideBlock(level.type_name, command.edit)
            command = EditCommand(level.page.network, edit, command.nudge)
        level.page.undo_stack.push(command)

    def __getattr__(self, name):
        return getattr(self._level.page.undo_stack, name)


class BlockLevel(QObject):
    """An entered block instance: its type's inside, edited in the instance's context.

    Signals:
        analysis_changed(Analysis): the inside was analysed again (after any edit).
        lost(): the entered instance or its type is gone (an undo took it away).

    Attributes:
        parent_level: the page or BlockLevel the instance lives in.
        page: the NetworkPage at the top (its undo stack holds every edit).
        instance_id: the entered instance's id in ``parent_level.network``.
        type_name: its block type.
        network: the type's inside network.
    """

    analysis_changed = Signal(object)
    lost = Signal()

    def __init__(self, parent_level, instance_id: str, parent=None):
        super().__init__(parent)
        self.parent_level = parent_level
        self.page = getattr(parent_level, "page", parent_level)
        self.instance_id = instance_id
        self._type_name = parent_level.network.node(instance_id).type
        self.network = parent_level.network.library.get(self.type_name).network
        self.undo_stack = _InsideStack(self)
        self.analysis = inside_analysis(parent_level, instance_id)
        parent_level.analysis_changed.connect(self._on_parent_analysis)

    @property
    def type_name(self) -> str:
        """The entered instance's block type (its name follows a rename)."""
        network = self.parent_level.network
        node = network.node(self.instance_id) if self.instance_id in network else None
        if node is not None and node.is_block:
            self._type_name = node.type
        return self._type_name

    @property
    def name(self) -> str:
        """How the breadcrumb names it: ``layer1_0 (BasicBlock)``."""
        return f"{self.instance_id} ({self.type_name})"

    @property
    def project(self):
        """The project the block type belongs to."""
        return self.page.project

    def is_valid(self) -> bool:
        """Whether the instance still stands where it was entered, of the same type
        object (an undo may have removed it or rebuilt its type)."""
        parent = self.parent_level
        if isinstance(parent, BlockLevel) and not parent.is_valid():
            return False
        network = parent.network
        if self.instance_id not in network:
            return False
        library = network.library
        return (
            network.node(self.instance_id).type == self.type_name
            and self.type_name in library
            and library.get(self.type_name).network is self.network
        )

    def request_analysis(self) -> None:
        """Analyse again at the next turn of the event loop (the page's analysis)."""
        self.page.request_analysis()

    def close(self) -> None:
        """Stop following the level above (the level was left)."""
        with contextlib.suppress(RuntimeError, TypeError):  # already gone with its page
            self.parent_level.analysis_changed.disconnect(self._on_parent_analysis)

    def _on_parent_analysis(self, analysis) -> None:
        if not self.is_valid():
            self.lost.emit()
            return
        self.analysis = inside_analysis(self.parent_level, self.instance_id)
        self.analysis_changed.emit(self.analysis)


def inside_analysis(level, instance_id: str) -> Analysis:
    """The analysis of the inside of instance ``instance_id`` of ``level`` (a page or
    a BlockLevel), with the shapes that arrive at it.

    The engine keeps it in ``analysis.inside`` for a sound instance; one with an error
    inside is analysed here again (cached by the engine), so that the error shows on
    the inner node that has it.
    """
    analysis = level.analysis
    inside = analysis.inside.get(instance_id)
    if inside is not None:
        return inside
    # the analysed copy holds the parameters as bound by the blocks around it
    network = analysis.network if instance_id in analysis.network else level.network
    node = network.node(instance_id)
    try:
        params = node.spec.check_params(node.params)
        wires = [network.wire_into(instance_id, port) for port in node.input_ports()]
        shapes = [analysis.wire_shape(w) if w is not None else None for w in wires]
        if all(shape is not None for shape in shapes):
            dtypes = [analysis.wire_dtype(w) or "float" for w in wires]
            return node.spec.analyze(params, shapes, dtypes)
        return node.spec.analyze(params)
    except DeepwireError:
        return analyze(node.spec.block_type.network)
