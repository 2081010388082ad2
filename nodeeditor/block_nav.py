"""Entering blocks: one canvas goes down into a block instance's inside and back up.

Each NetworkView has a ``BlockNavigator``: a stack of levels, the network's page at the
bottom, then one ``BlockLevel`` (nodeeditor.block_level) per entered block, each with
its own NetworkScene. Entering shows the inside's scene in the same view (fitted);
leaving drops the levels above, shows the one below again where the view was, and
selects the block that was entered. Blocks nest: entering inside an entered block
pushes another level.

Going back up: a breadcrumb item (nodeeditor.breadcrumb), Alt+Up, or Esc on the
canvas when nothing is selected (the first Esc clears a selection, as it always did).
If an undo takes the entered block away (its grouping undone), the view goes back up
to the deepest level that still stands, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QGuiApplication, QTransform

from nodeeditor.block_level import BlockLevel


@dataclass
class Level:
    """One level of a navigator: what the canvas edits there and its scene.

    Attributes:
        document: the NetworkPage (depth 0) or a BlockLevel.
        scene: its NetworkScene.
        view_state: the view's transform and centre when a block was entered from here.
    """

    document: object
    scene: object
    view_state: tuple[QTransform, QPointF] | None = None


class BlockNavigator(QObject):
    """The stack of entered blocks of one view (see the module docstring).

    Signals:
        changed(): another level is shown.
        scene_created(NetworkScene): a scene was made for an entered block (the window
            connects its selection and messages).
        message(str): a sentence for the status bar.
    """

    changed = Signal()
    scene_created = Signal(object)
    message = Signal(str)

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.levels = [Level(view.scene().document, view.scene())]
        view.installEventFilter(self)

    # ----------------------------------------------------------------- state
    @property
    def depth(self) -> int:
        """How many blocks deep the view is (0: the network itself)."""
        return len(self.levels) - 1

    @property
    def document(self):
        """What the canvas edits now: the page or the innermost BlockLevel."""
        return self.levels[-1].document

    def names(self) -> list[str]:
        """The breadcrumb's items: the network's name, then each entered block."""
        return [level.document.name for level in self.levels]

    # ----------------------------------------------------------------- moves
    def enter(self, node_id: str) -> bool:
        """Show the inside of block instance ``node_id`` of the current level; False
        (and nothing changes) when it is not a block."""
        from nodeeditor.canvas.scene import NetworkScene

        here = self.levels[-1]
        network = here.document.network
        if node_id not in network or not network.node(node_id).is_block:
            return False
        level = BlockLevel(here.document, node_id, self)
        scene = NetworkScene(level)
        scene.setParent(self.view)
        scene.set_locked(here.scene.locked)
        level.lost.connect(self._on_lost)
        view = self.view
        here.view_state = (view.transform(), view.visible_scene_rect().center())
        self.levels.append(Level(level, scene))
        self.scene_created.emit(scene)
        view.show_scene(scene)
        view.fit()
        self.changed.emit()
        return True

    def leave(self, depth: int | None = None) -> bool:
        """Go back up to ``depth`` (one level up by default); False when already there."""
        target = self.depth - 1 if depth is None else depth
        if not 0 <= target < self.depth:
            return False
        locked = self.levels[-1].scene.locked
        entered = self.levels[target + 1].document.instance_id
        while self.depth > target:
            level = self.levels.pop()
            level.document.close()
            level.scene.detach()
            level.scene.deleteLater()
            level.document.deleteLater()
        here = self.levels[-1]
        here.scene.set_locked(locked)
        view = self.view
        view.show_scene(here.scene)
        if here.view_state is not None:
            transform, centre = here.view_state
            view.setTransform(transform)
            view.centerOn(centre)
            here.scene.set_zoom(view.zoom())
        here.scene.select_nodes([entered] if entered in here.scene.network else [])
        self.changed.emit()
        return True

    def _on_lost(self) -> None:
        """An undo took an entered block away: go up to the deepest level left."""
        keep = 0
        for depth, level in enumerate(self.levels[1:], start=1):
            if not level.document.is_valid():
                break
            keep = depth
        if keep < self.depth:
            name = self.levels[keep + 1].document.type_name
            self.leave(keep)
            self.message.emit(f"Left the block {name}: it is no longer there")

    def eventFilter(self, watched, event) -> bool:
        if (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Escape
            and not event.modifiers()
            and self.depth
            and not self.view.scene().selectedItems()
            and not QGuiApplication.mouseButtons()  # Esc during a wire drag cancels it
        ):
            self.leave()
            return True
        return super().eventFilter(watched, event)
