"""Fit on a big network: never below a readable zoom; the rest is scrolled to."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from benchmarks.networks import flat_resnet50
from engine.project import Project
from nodeeditor.canvas.scene import NetworkScene
from nodeeditor.canvas.view import NetworkView
from nodeeditor.document import Document

READABLE_ZOOM = 0.4  # issue 13: nodes still show their text


@pytest.fixture
def resnet_view(qtbot):
    document = Document(Project({"resnet50": flat_resnet50()}))
    scene = NetworkScene(document)
    view = NetworkView(scene)
    view.resize(1100, 700)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    yield view
    scene.detach()


def test_fit_after_auto_layout_keeps_a_resnet50_readable_and_the_minimap_reaches_the_rest(
    resnet_view, qtbot
):
    view = resnet_view
    view.auto_layout()
    view.zoom_by(0.1)  # zoomed far out, as a user who looked for the end of the row
    QTest.keyClick(view, Qt.Key.Key_F)
    qtbot.wait(1)
    assert view.zoom() >= READABLE_ZOOM
    scene_rect = view.scene().itemsBoundingRect()
    assert scene_rect.width() <= 4 * scene_rect.height()  # folded, not one long row
    assert not view.visible_scene_rect().contains(scene_rect)  # larger than the window
    minimap = view.minimap
    assert minimap.isVisible()
    before = view.visible_scene_rect().center()
    corner = QPoint(minimap.width() - 4, minimap.height() - 4)
    QTest.mouseClick(minimap, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, corner)
    after = view.visible_scene_rect().center()
    assert after.x() > before.x() and after.y() > before.y()  # scrolled towards the end
    assert view.zoom() >= READABLE_ZOOM
