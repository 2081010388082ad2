"""A one-line overview of how the project's networks connect, above the canvas tabs.

For a project trained with ``"recipe": "adversarial"`` it draws the GAN's flow,
``noise -> generator -> discriminator <- data``, with the network names that the
training settings give each role (``engine.project.adversarial_networks``); a name no
network has is drawn dashed, in the error colour. For other projects with several
networks it lists them. The network on screen is highlighted, and clicking a network's
box shows its tab. The strip is read-only, one box high, and hidden while a project
has a single network (and is not a GAN), so it takes no room from a plain project's
canvas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from engine.naming import MAX_LENGTH as MAX_NAME
from engine.project import adversarial_networks
from nodeeditor import theme

HEIGHT = 34  # the strip: one row of boxes
BOX_HEIGHT = 22
PADDING = 9  # text to box edge
ARROW_GAP = 34  # between boxes joined by an arrow
GAP = 10  # between boxes of a plain list
MAX_TEXT = 170  # pixels of a name before it is elided
NOISE_KINDS = ("normal", "uniform")


@dataclass
class Box:
    """One box of the overview.

    Attributes:
        label: the text drawn.
        network: the network it stands for (clicking shows its tab), or None for the
            noise and the data.
        missing: it names a network the project does not have.
        tip: its tooltip.
        rect: where it is drawn (set by the widget's layout).
    """

    label: str
    network: str | None = None
    missing: bool = False
    tip: str = ""
    rect: QRectF = field(default_factory=QRectF)


def _short(name: str, limit: int = 40) -> str:
    return repr(name if len(name) <= limit else name[:limit] + "...")


def describe(project) -> tuple[str, list[Box], list[tuple[int, int]]]:
    """What the overview draws for ``project``: a caption, the boxes in order, and the
    arrows as ``(from box, to box)`` indexes of neighbouring boxes."""
    names = list(project.networks)
    roles = adversarial_networks(project.training)
    if roles is None:
        boxes = [Box(name, name, tip=f"Show the network {_short(name)}") for name in names]
        return "Networks", boxes, []
    generator, discriminator = roles["generator"], roles["discriminator"]
    boxes = [
        Box("noise", tip=_noise_tip(project.training)),
        _role_box(generator, "generator", names),
        _role_box(discriminator, "discriminator", names),
        Box("data", tip=_data_tip(project.dataset)),
    ]
    others = [name for name in names if name not in (generator, discriminator)]
    boxes += [
        Box(name, name, tip=f"Show the network {_short(name)} (not in the GAN)") for name in others
    ]
    return "GAN", boxes, [(0, 1), (1, 2), (3, 2)]


def _role_box(name: str, role: str, names: list[str]) -> Box:
    if not name:
        return Box("?", missing=True, tip=f"The training settings name no network as the {role}")
    if name not in names:  # any text of the file: shortened before it is measured
        label = name if len(name) <= MAX_NAME else name[:MAX_NAME] + "…"
        return Box(
            label, missing=True,
            tip=f"No network is named {_short(name)}; the training settings name it as the {role}",
        )  # fmt: skip
    return Box(name, name, tip=f"The {role}: show the network {_short(name)}")


def _noise_tip(training: dict) -> str:
    settings = training.get("adversarial")
    kind = settings.get("noise") if isinstance(settings, dict) else None
    kind = kind if kind in NOISE_KINDS else "normal"
    return f"Random noise ({kind}): the generator's input"


def _data_tip(dataset) -> str:
    name = dataset.get("name") if isinstance(dataset, dict) else None
    if not isinstance(name, str) or not name:
        return "The training data (the project names no dataset yet)"
    return f"The training data: {name[:60]}, what the discriminator learns to tell from fakes"


class NetworkOverview(QWidget):
    """The strip above the tabs. See the module docstring.

    Signals:
        network_clicked(str): the box of a network was clicked.
    """

    network_clicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("network_overview")
        self.setFixedHeight(HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(True)
        self.setAccessibleName("How the networks connect")
        self.document = None
        self.caption = ""
        self.boxes: list[Box] = []
        self.arrows: list[tuple[int, int]] = []
        self.hide()

    def set_document(self, document) -> None:
        """Follow ``document`` instead of the previous one."""
        if self.document is not None:
            for signal in self._signals(self.document):
                signal.disconnect(self.refresh)
        self.document = document
        for signal in self._signals(document):
            signal.connect(self.refresh)
        self.refresh()

    @staticmethod
    def _signals(document):
        return (document.changed, document.networks_changed, document.current_changed)

    def refresh(self, *args) -> None:
        """Re-read the project: networks, the training settings, the current network."""
        project = self.document.project
        self.caption, self.boxes, self.arrows = describe(project)
        self.setVisible(
            len(project.networks) > 1 or adversarial_networks(project.training) is not None
        )
        self.setAccessibleDescription(self.summary())
        self._layout()
        self.update()

    def summary(self) -> str:
        """The overview in words: ``noise → generator → discriminator ← data``."""
        if not self.arrows:
            return ", ".join(box.label for box in self.boxes)
        flow = [box.label for box in self.boxes[:4]]
        text = f"{flow[0]} → {flow[1]} → {flow[2]} ← {flow[3]}"
        extra = [box.label for box in self.boxes[4:]]
        return text + (f"; also {', '.join(extra)}" if extra else "")

    def box_at(self, point: QPointF) -> Box | None:
        """The box under ``point`` (widget coordinates), or None."""
        return next((box for box in self.boxes if box.rect.contains(point)), None)

    # ----------------------------------------------------------------- layout and paint
    def _layout(self) -> None:
        metrics = QFontMetrics(self.font())
        x = 8 + metrics.horizontalAdvance(self.caption) + 12
        top = (HEIGHT - BOX_HEIGHT) / 2
        joined = {frozenset(arrow) for arrow in self.arrows}
        for index, box in enumerate(self.boxes):
            width = min(metrics.horizontalAdvance(box.label), MAX_TEXT) + 2 * PADDING
            box.rect = QRectF(x, top, width, BOX_HEIGHT)
            x += width + (ARROW_GAP if frozenset((index, index + 1)) in joined else GAP)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._layout()

    def paintEvent(self, event) -> None:
        colors = {key: QColor(value) for key, value in theme.colors().items()}
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(colors["muted"])
        painter.drawText(
            QRectF(8, 0, self.width(), HEIGHT), Qt.AlignmentFlag.AlignVCenter, self.caption
        )
        painter.drawLine(0, HEIGHT - 1, self.width(), HEIGHT - 1)
        for start, end in self.arrows:
            self._draw_arrow(painter, self.boxes[start].rect, self.boxes[end].rect, colors["muted"])
        current = self.document.current.name if self.document is not None else None
        for box in self.boxes:
            self._draw_box(painter, box, box.network is not None and box.network == current, colors)
        painter.end()

    def _draw_box(self, painter: QPainter, box: Box, current: bool, colors: dict) -> None:
        if box.missing:
            pen = QPen(colors["error"], 1.2, Qt.PenStyle.DashLine)
            fill, text = Qt.GlobalColor.transparent, colors["error"]
        elif box.network is None:  # the noise and the data: not networks of the project
            pen, fill, text = (
                QPen(colors["muted"], 1, Qt.PenStyle.DotLine),
                Qt.GlobalColor.transparent,
                colors["muted"],
            )
        else:
            highlight = QColor(colors["highlight"])
            highlight.setAlpha(60 if current else 0)
            pen = QPen(colors["highlight"] if current else colors["muted"], 2 if current else 1)
            fill, text = highlight, colors["text"]
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(box.rect, 5, 5)
        painter.setPen(text)
        label = QFontMetrics(self.font()).elidedText(
            box.label, Qt.TextElideMode.ElideMiddle, MAX_TEXT
        )
        painter.drawText(box.rect, Qt.AlignmentFlag.AlignCenter, label)

    @staticmethod
    def _draw_arrow(painter: QPainter, source: QRectF, target: QRectF, color: QColor) -> None:
        rightwards = source.center().x() < target.center().x()
        y = source.center().y()
        start = QPointF(source.right() if rightwards else source.left(), y)
        tip = QPointF(target.left() if rightwards else target.right(), y)
        back = -7 if rightwards else 7
        painter.setPen(QPen(color, 1.3))
        painter.drawLine(start, QPointF(tip.x() + back, y))
        head = QPainterPath(tip)
        head.lineTo(tip.x() + back, y - 4)
        head.lineTo(tip.x() + back, y + 4)
        head.closeSubpath()
        painter.fillPath(head, color)

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event) -> None:
        box = self.box_at(event.position())
        if box is not None and box.network is not None and not box.missing:
            self.network_clicked.emit(box.network)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        box = self.box_at(event.position())
        clickable = box is not None and box.network is not None and not box.missing
        self.setCursor(
            Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.ArrowCursor
        )
        super().mouseMoveEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            box = self.box_at(QPointF(event.pos()))
            if box is not None:
                QToolTip.showText(event.globalPos(), box.tip, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
