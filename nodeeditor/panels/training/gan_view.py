"""The live view of a GAN while it trains, drawn the way GAN Lab draws it in a browser.

Left, the data space: for 2-D data the discriminator's output ``D(x, y)`` as a
background field (purple where it says "generated", green where it says "real", white
at 0.5), with the real points (green) and the generated points (purple) over it; for
images a 4x4 grid of samples generated from fixed noise, so the same cells evolve.
Right, two small plots over epochs: the two losses, and ``D(real)``, ``D(fake)``.

Like ``TrainingPlots``, ``show_view`` and ``add_row`` only keep what arrived and
``refresh`` draws it (the panel's timer calls it at a bounded rate); every item is
created once and updated in place.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from engine.training.core.adversarial import is_gan_row
from nodeeditor import theme

REAL_COLOR = "#1b7837"  # GAN Lab's real samples: green
FAKE_COLOR = "#762a83"  # its generated samples: purple
# D's output from 0 (generated) through 0.5 to 1 (real); pale ends keep the points legible
FIELD_STOPS = ((0.0, "#b99cc9"), (0.5, "#f7f7f7"), (1.0, "#9fd49a"))
GRID_SIDE = 4  # image samples shown as a GRID_SIDE x GRID_SIDE grid
GAP_VALUE = 0.5  # the grey between the cells of the grid
POINT_SIZE = 4
POINT_ALPHA = 190
MIN_SPACE_SIDE = 120  # pixels: the data space is never narrower than this
MIN_HEIGHT = 130  # like TrainingPlots: the titles and axes take about 60 px
CURVES = {  # row key: (plot, colour, legend name)
    "train_d_loss": ("losses", "#0575b0", "D loss"),
    "train_g_loss": ("losses", "#7b3294", "G loss"),
    "train_d_real": ("outputs", REAL_COLOR, "D(real)"),
    "train_d_fake": ("outputs", FAKE_COLOR, "D(fake)"),
}


def field_lookup_table() -> np.ndarray:
    """The 256-colour table of the discriminator's field (purple, white, green)."""
    positions = [stop for stop, _ in FIELD_STOPS]
    colors = [pg.mkColor(color) for _, color in FIELD_STOPS]
    return pg.ColorMap(positions, colors).getLookupTable(0.0, 1.0, 256)


def finite_points(points) -> np.ndarray:
    """``points`` as an (n, 2) float array without rows that hold NaN or infinity."""
    if points is None:
        return np.zeros((0, 2))
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return array[np.isfinite(array).all(axis=1)]


def grid_rect(extent, rows: int, cols: int) -> QRectF:
    """The rectangle a (rows, cols) field covers when its values sit at the grid points
    ``linspace(xmin, xmax, cols)`` x ``linspace(ymin, ymax, rows)``: half a cell wider
    on each side, so that each pixel is centred on its point."""
    xmin, xmax, ymin, ymax = (float(v) for v in extent)
    dx = (xmax - xmin) / max(cols - 1, 1)
    dy = (ymax - ymin) / max(rows - 1, 1)
    return QRectF(xmin - dx / 2, ymin - dy / 2, xmax - xmin + dx, ymax - ymin + dy)


def _scaled(sample: np.ndarray) -> np.ndarray:
    """One sample scaled to 0..1 by its own min and max (a flat one is mid grey)."""
    sample = np.nan_to_num(sample.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(sample.min()), float(sample.max())
    if high - low <= 0:
        return np.full_like(sample, 0.5)
    return (sample - low) / (high - low)


def _as_pictures(images: np.ndarray) -> np.ndarray | None:
    """(n, H, W) grey or (n, H, W, 3) RGB pictures from (n, H, W) or (n, C, H, W)
    samples: three channels are RGB, one (or any other count) is its first channel in
    grey. None for a shape that is no batch of images."""
    images = np.asarray(images)
    if images.ndim == 3 and min(images.shape) > 0:
        return images
    if images.ndim == 4 and min(images.shape) > 0:
        return np.moveaxis(images, 1, -1) if images.shape[1] == 3 else images[:, 0]
    return None


def mosaic(images, side: int = GRID_SIDE) -> np.ndarray | None:
    """The first ``side * side`` samples in a grid, row by row, one pixel of grey
    between cells, each scaled to its own min/max; (rows, cols) or (rows, cols, 3)
    in 0..1, row 0 at the top. None when ``images`` is no batch of images."""
    pictures = _as_pictures(images)
    if pictures is None:
        return None
    height, width = pictures.shape[1:3]
    shape = (side * (height + 1) - 1, side * (width + 1) - 1, *pictures.shape[3:])
    grid = np.full(shape, GAP_VALUE, dtype=np.float32)
    for index, picture in enumerate(pictures[: side * side]):
        top, left = divmod(index, side)
        top, left = top * (height + 1), left * (width + 1)
        grid[top : top + height, left : left + width] = _scaled(picture)
    return grid


def cell(grid: np.ndarray, index: int, height: int, width: int) -> np.ndarray:
    """The picture of cell ``index`` of a ``mosaic`` of (height, width) pictures."""
    top, left = divmod(index, GRID_SIDE)
    top, left = top * (height + 1), left * (width + 1)
    return grid[top : top + height, left : left + width]


def _points(color: str, name: str):
    """A scatter layer; a little transparent (as GAN Lab's) so both show where they meet."""
    brush = pg.mkColor(color)
    brush.setAlpha(POINT_ALPHA)
    return pg.ScatterPlotItem(size=POINT_SIZE, pen=None, brush=brush, name=name)


def _small_plot(graphics, col: int, title: str):
    plot = graphics.addPlot(row=0, col=col, title=title)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setLabel("bottom", "epoch")
    plot.setMouseEnabled(x=False, y=False)
    for axis in plot.axes.values():
        axis["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
    return plot


class GanLiveView(QWidget):
    """The data space (field and points, or the sample grid) and the GAN's curves."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("gan_view")
        self.graphics.setBackground(theme.colors()["base"])
        self.graphics.setMinimumHeight(MIN_HEIGHT)
        layout.addWidget(self.graphics)
        self._build_space()
        self.plots = {
            "losses": _small_plot(self.graphics, 1, "losses"),
            "outputs": _small_plot(self.graphics, 2, "D(real), D(fake)"),
        }
        self.plots["outputs"].setYRange(0, 1, padding=0.05)
        self.plots["outputs"].addLine(y=0.5, pen=pg.mkPen("#8b929c", style=Qt.PenStyle.DashLine))
        self.curves = {key: self._curve(*spec) for key, spec in CURVES.items()}
        self.space.getViewBox().sigResized.connect(self._fit_space)
        self.clear()

    def _curve(self, plot: str, color: str, name: str):
        return self.plots[plot].plot([], [], name=name, pen=pg.mkPen(color, width=2), symbol="o",
                                     symbolSize=4, symbolBrush=color, symbolPen=None)  # fmt: skip

    def _build_space(self) -> None:
        self.space = self.graphics.addPlot(row=0, col=0, title="data space")
        self.space.setAspectLocked(True)
        self.space.setMenuEnabled(False)
        # small, in the corner that rings and spirals leave empty; a user can drag it
        self.legend = self.space.addLegend(offset=(1, 1), labelTextSize="7pt", verSpacing=-8)
        self.field = pg.ImageItem(axisOrder="row-major")
        self.field.setLookupTable(field_lookup_table())
        self.field.setZValue(-10)
        self.space.addItem(self.field)
        self.real = _points(REAL_COLOR, "real")
        self.fake = _points(FAKE_COLOR, "generated")
        for item in (self.real, self.fake):
            self.space.addItem(item)
        self.samples = pg.ImageItem(axisOrder="row-major")
        self.space.addItem(self.samples)

    def _fit_space(self, *_) -> None:
        """Make the data space as wide as its drawing area is tall: the plane keeps its
        aspect, so more width would be blank, and the curves beside it get the rest.
        (Its title must stay short: a title label is never narrower than its text.)"""
        box = self.space.getViewBox()
        chrome = self.space.size().width() - box.size().width()  # the axis and margins
        self.space.setMaximumWidth(max(MIN_SPACE_SIDE, box.size().height()) + chrome)

    # ------------------------------------------------------------------ feeding
    def clear(self, epochs: int = 0) -> None:
        """Forget the view and the curves; ``epochs`` fixes the epoch axis (0: follow)."""
        self.mode = ""  # "points" or "images" once a view arrived
        self.pending = None  # the latest view not drawn yet
        self.extent = None
        self.epoch = 0
        self.points: dict[str, tuple[list, list]] = {key: ([], []) for key in CURVES}
        self.curves_dirty = True
        for plot in self.plots.values():
            if epochs:
                plot.setXRange(0, epochs, padding=0.02)
            else:
                plot.enableAutoRange(axis="x")
        self.real.setData(pos=np.zeros((0, 2)))
        self.fake.setData(pos=np.zeros((0, 2)))
        for item in (self.field, self.samples):
            item.clear()
        self.space.setTitle("data space")
        self.refresh()

    def show_view(self, view) -> None:
        """Keep ``view`` (a ``GanView`` event) to draw at the next ``refresh``; a newer
        one arriving first replaces it."""
        self.pending = view

    def add_row(self, row: dict) -> bool:
        """Keep an epoch's GAN numbers (an ``EpochEnd.row()``); False if it has none."""
        if not is_gan_row(row):
            return False
        for key in CURVES:
            value = row.get(key)
            if value is not None:
                xs, ys = self.points[key]
                xs.append(row["epoch"])
                ys.append(float(value))
        self.curves_dirty = True
        return True

    def point_count(self, key: str) -> int:
        """How many epochs curve ``key`` (``train_d_loss``...) holds."""
        return len(self.points[key][0])

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Draw the latest view and the curves, if they changed since the last call."""
        view, self.pending = self.pending, None
        if view is not None:
            self.draw(view)
        if self.curves_dirty:
            self.curves_dirty = False
            for key, curve in self.curves.items():
                curve.setData(*self.points[key])

    def draw(self, view) -> None:
        """Show ``view`` now: the sample grid, or the field and the points."""
        self.epoch = view.epoch
        if view.images is not None:
            grid = mosaic(view.images)
            if grid is not None:
                self._set_mode("images")
                self.samples.setImage(np.flipud(grid), autoLevels=False, levels=(0.0, 1.0))
                self.space.setTitle(f"samples, epoch {view.epoch}")
            return
        self._set_mode("points")
        self.real.setData(pos=finite_points(view.real))
        self.fake.setData(pos=finite_points(view.fake))
        if view.field is not None and view.extent is not None:
            self._draw_field(np.asarray(view.field), tuple(view.extent))
        self.space.setTitle(f"D(x), epoch {view.epoch}")

    def _draw_field(self, field: np.ndarray, extent: tuple) -> None:
        if field.ndim != 2 or not np.isfinite(extent).all():
            return
        values = np.clip(np.nan_to_num(field, nan=0.5), 0.0, 1.0)
        self.field.setImage(values, autoLevels=False, levels=(0.0, 1.0))
        self.field.setRect(grid_rect(extent, *field.shape))
        if extent != self.extent:  # fixed: points that fly off must not zoom it out
            self.extent = extent
            xmin, xmax, ymin, ymax = extent
            self.space.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.02)

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        points = mode == "points"
        for item in (self.field, self.real, self.fake):
            item.setVisible(points)
        self.samples.setVisible(not points)
        self.legend.setVisible(points)
        for name in ("left", "bottom"):
            self.space.showAxis(name, points)
        if not points:
            self.space.enableAutoRange()
