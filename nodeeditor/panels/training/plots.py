"""Live training curves (pyqtgraph): loss, the task's metric and the learning rate.

Points are only collected by ``add_batches`` / ``add_epoch``; ``refresh`` copies them
into the curves and is called from the panel's timer at a bounded rate, however fast
batches arrive (a ``setData`` per batch would slow training and the window: see
shared/PITFALLS.md #5-6). Curves downsample by peaks and clip to the view.

The x axis of every plot is the epoch; a batch sits at ``epoch - 1 + batch / batches``.

An adversarial run (its epoch rows hold ``train_d_loss``, or a ``GanView`` arrives)
shows the GAN view (``gan_view.py``) in place of the three plots: their loss, metric
and learning rate say little about two networks trained against each other.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from nodeeditor import theme
from nodeeditor.panels.training.gan_view import GanLiveView

METRIC_TITLES = {"accuracy": "accuracy", "r2": "R²", "mae": "MAE"}
PLOT_CURVES = {
    "loss": ("batch_loss", "train_loss", "val_loss"),
    "metric": ("train_metric", "val_metric"),
    "lr": ("lr",),
}
SYMBOLS_UP_TO = 40  # epochs drawn with a dot each
PLOTS_MIN_HEIGHT = 130


def _curve(plot, color: str, name: str, width: float = 2.0, alpha: int = 255, symbol=None):
    pen = pg.mkPen(pg.mkColor(color).lighter(100), width=width)
    color_with_alpha = pg.mkColor(color)
    color_with_alpha.setAlpha(alpha)
    pen.setColor(color_with_alpha)
    curve = plot.plot([], [], pen=pen, name=name, symbol=symbol, symbolSize=5,
                      symbolBrush=color, symbolPen=None)  # fmt: skip
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    return curve


class TrainingPlots(QWidget):
    """Three plots side by side sharing the epoch axis, or the GAN view."""

    def __init__(self, parent=None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("training_plots")
        self.graphics.setBackground(theme.colors()["base"])
        # title and epoch axis take about 60 px: without this the curves got no height
        self.graphics.setMinimumHeight(PLOTS_MIN_HEIGHT)
        layout.addWidget(self.graphics)
        self.loss_plot = self.graphics.addPlot(row=0, col=0, title="loss")
        self.metric_plot = self.graphics.addPlot(row=0, col=1, title="accuracy")
        self.lr_plot = self.graphics.addPlot(row=0, col=2, title="learning rate")
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setLabel("bottom", "epoch")
            plot.setMouseEnabled(x=False, y=False)
            for axis in plot.axes.values():
                # blit the axis (ticks, text) from a cache unless its range changed
                axis["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.loss_plot.addLegend(offset=(-5, 5))
        self.metric_plot.addLegend(offset=(-5, -5))
        self.curves = {
            "batch_loss": _curve(self.loss_plot, "#7f8c9a", "batch", 1.0, 90),
            "train_loss": _curve(self.loss_plot, "#3b82f6", "train", symbol="o"),
            "val_loss": _curve(self.loss_plot, "#f97316", "validation", symbol="o"),
            "train_metric": _curve(self.metric_plot, "#3b82f6", "train", symbol="o"),
            "val_metric": _curve(self.metric_plot, "#f97316", "validation", symbol="o"),
            "lr": _curve(self.lr_plot, "#22c55e", "lr", 1.5),
        }
        self.gan = GanLiveView()
        layout.addWidget(self.gan)
        self.clear()

    def clear(self, metric: str = "accuracy", epochs: int = 0) -> None:
        """Forget every point; ``metric`` names the second plot's metric and ``epochs``
        fixes the epoch axis (0: follow the data)."""
        self.metric = metric
        self.adversarial = False
        self.graphics.show()
        self.gan.hide()
        self.gan.clear(epochs)
        self.metric_plot.setVisible(bool(metric))  # reconstruction has no metric
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            if epochs:
                plot.setXRange(0, epochs, padding=0.02)
            else:
                plot.enableAutoRange(axis="x")
        self.metric_plot.setTitle(METRIC_TITLES.get(metric, metric))
        self.points: dict[str, tuple[list, list]] = {k: ([], []) for k in self.curves}
        for key in ("train_loss", "val_loss", "train_metric", "val_metric"):
            self.curves[key].setSymbol("o")
        self.dirty_plots: list[str] = []
        self.refresh_all()

    def add_batches(self, events) -> None:
        """Add per-batch losses and learning rates (``BatchEnd`` events)."""
        xs, losses = self.points["batch_loss"]
        lr_x, lrs = self.points["lr"]
        for event in events:
            x = event.epoch - 1 + event.batch / max(event.batches, 1)
            xs.append(x)
            losses.append(event.loss)
            lr_x.append(x)
            lrs.append(event.lr)
        if events:
            self._mark("loss", "lr")

    def add_epoch(self, event) -> None:
        """Add an epoch's training and validation losses and metric (``EpochEnd``);
        a GAN's epoch goes to the GAN view."""
        if self.gan.add_row(event.row()):
            self.show_adversarial()
        for part, values in (("train", event.train), ("val", event.val)):
            if "loss" in values:
                self._append(f"{part}_loss", event.epoch, values["loss"])
            if self.metric in values:
                self._append(f"{part}_metric", event.epoch, values[self.metric])
        self._mark("loss", "metric")

    def show_view(self, view) -> None:
        """Show a GAN's live view (a ``GanView`` event) at the next refresh."""
        self.show_adversarial()
        self.gan.show_view(view)

    def show_adversarial(self) -> None:
        """Show the GAN view in place of the loss, metric and learning-rate plots."""
        if not self.adversarial:
            self.adversarial = True
            self.graphics.hide()
            self.gan.show()
        self._mark("gan")

    def _append(self, key: str, x: float, y: float) -> None:
        xs, ys = self.points[key]
        xs.append(x)
        ys.append(y)

    def point_count(self, key: str) -> int:
        """How many points ``key`` (``train_loss``, ``batch_loss``...) holds."""
        return len(self.points[key][0])

    def refresh(self) -> None:
        """Copy collected points into the curves of one plot that changed.

        One plot per call, in turn: a repaint of one plot is cheap enough to keep
        the event loop within a frame, and at 20 calls a second each plot still
        redraws several times a second.
        """
        if not self.dirty_plots:
            return
        name = self.dirty_plots.pop(0)
        if name == "gan":
            self.gan.refresh()
            return
        for key in PLOT_CURVES[name]:
            xs, ys = self.points[key]
            curve = self.curves[key]
            if curve.opts.get("symbol") and len(xs) > SYMBOLS_UP_TO:
                curve.setSymbol(None)  # dots help a few epochs, clutter many
            curve.setData(xs, ys)
        if name == "lr":
            _, lrs = self.points["lr"]
            if lrs and max(lrs) == min(lrs):  # a constant rate: show it, not a flat 0
                self.lr_plot.setYRange(0, 2 * lrs[0], padding=0)
            else:
                self.lr_plot.enableAutoRange(axis="y")

    def refresh_all(self) -> None:
        """Redraw every plot now (at the end of a run)."""
        self._mark("loss", "metric", "lr", "gan")
        while self.dirty_plots:
            self.refresh()

    def _mark(self, *names: str) -> None:
        for name in names:
            if self.adversarial and name != "gan":
                continue  # hidden behind the GAN view: its points are kept, not drawn
            if name not in self.dirty_plots:
                self.dirty_plots.append(name)
