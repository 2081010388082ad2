"""The GAN's live view: points over D's field, the sample grid, the GAN's curves, and
the Training panel showing it for an adversarial run only."""

from __future__ import annotations

import numpy as np
import pytest

from engine.training.core.events import EpochEnd, GanView
from nodeeditor import dialogs
from nodeeditor.panels.training.gan_view import GRID_SIDE, GanLiveView, cell, mosaic
from tests.nodeeditor.app_helpers import show_training_panel

EXTENT = (-3.0, 3.0, -2.5, 2.5)


@pytest.fixture(name="view")
def gan_view(qtbot):
    widget = GanLiveView()
    qtbot.addWidget(widget)
    widget.resize(700, 280)
    widget.show()
    return widget


def plane_view(epoch: int, seed: int = 0, n: int = 512) -> GanView:
    rng = np.random.default_rng(seed)
    return GanView(
        epoch,
        real=rng.normal(size=(n, 2)).astype(np.float32),
        fake=rng.normal(size=(n, 2)).astype(np.float32),
        field=rng.random((40, 40)).astype(np.float32),
        extent=EXTENT,
    )


def held(scatter) -> np.ndarray:
    x, y = scatter.getData()
    return np.column_stack([x, y])


def gan_epoch(epoch: int) -> EpochEnd:
    train = {"d_loss": 1.3 - 0.1 * epoch, "g_loss": 0.7 + 0.1 * epoch,
             "d_real": 0.5 + 0.05 * epoch, "d_fake": 0.5 - 0.05 * epoch, "g_grad": 0.1}  # fmt: skip
    val = {"fake_spread": 0.8, "real_spread": 1.0}
    return EpochEnd(epoch, 5, train, val, 2e-4, 0.1, 1000.0, False)


def test_a_plane_view_puts_its_points_and_field_into_the_same_items(view):
    items = (view.real, view.fake, view.field, list(view.space.items))
    for epoch, seed in ((1, 0), (2, 1)):
        event = plane_view(epoch, seed)
        view.show_view(event)
        view.refresh()
        np.testing.assert_array_equal(held(view.real), event.real)
        np.testing.assert_array_equal(held(view.fake), event.fake)
        np.testing.assert_array_equal(view.field.image, event.field)
    assert (view.real, view.fake, view.field, list(view.space.items)) == items  # in place
    # field[i, j] sits at x = linspace(xmin, xmax, 40)[j]: pixels centred on the grid
    rect = view.field.mapRectToParent(view.field.boundingRect())
    step = 6.0 / 39
    assert rect.left() == pytest.approx(-3.0 - step / 2)
    assert rect.width() == pytest.approx(6.0 + step)
    assert view.field.isVisible() and not view.samples.isVisible()
    assert view.space.titleLabel.text == "D(x), epoch 2"


def test_points_that_diverged_are_left_out_and_a_nan_field_is_undecided(view):
    event = plane_view(1)
    fake = event.fake.copy()
    fake[:3] = [[np.nan, 0.0], [np.inf, 1.0], [0.0, -np.inf]]
    field = event.field.copy()
    field[0, 0] = np.nan
    view.show_view(GanView(1, real=event.real, fake=fake, field=field, extent=EXTENT))
    view.refresh()
    np.testing.assert_array_equal(held(view.fake), fake[3:])
    assert view.field.image[0, 0] == 0.5


def test_an_image_view_fills_16_cells_each_scaled_to_its_own_range(view):
    rng = np.random.default_rng(0)
    images = rng.random((16, 1, 8, 8)).astype(np.float32) * np.arange(1, 17)[:, None, None, None]
    images[5] = 7.0  # a flat sample is mid grey, not a division by zero
    view.show_view(GanView(3, images=images))
    view.refresh()
    grid = np.flipud(view.samples.image)  # drawn bottom-up
    for index in range(GRID_SIDE * GRID_SIDE):
        picture = cell(grid, index, 8, 8)
        if index == 5:
            assert np.all(picture == 0.5)
            continue
        sample = images[index, 0]
        expected = (sample - sample.min()) / (sample.max() - sample.min())
        np.testing.assert_allclose(picture, expected, atol=1e-6)
    assert view.samples.isVisible() and not view.field.isVisible()


def test_three_channels_are_shown_in_colour_and_one_in_grey():
    rng = np.random.default_rng(0)
    assert mosaic(rng.random((16, 3, 5, 6))).shape == (4 * 6 - 1, 4 * 7 - 1, 3)
    assert mosaic(rng.random((16, 5, 6))).shape == (4 * 6 - 1, 4 * 7 - 1)
    assert mosaic(rng.random((16, 1, 5, 6))).shape == (4 * 6 - 1, 4 * 7 - 1)
    assert mosaic(rng.random((16, 2))) is None  # not images: nothing drawn


def test_gan_epochs_draw_on_the_two_gan_plots_in_place_of_the_curves(qtbot, window):
    panel = show_training_panel(qtbot, window)
    plots = panel.plots
    for epoch in (1, 2, 3):
        plots.add_epoch(gan_epoch(epoch))
    panel.show_view(plane_view(3))
    plots.refresh_all()
    assert plots.gan.isVisible() and not plots.graphics.isVisible()
    for key in ("train_d_loss", "train_g_loss", "train_d_real", "train_d_fake"):
        assert list(plots.gan.curves[key].getData()[0]) == [1, 2, 3], key
    assert plots.gan.curves["train_d_fake"].getData()[1][-1] == pytest.approx(0.35)
    assert len(held(plots.gan.fake)) == 512


def test_a_supervised_run_leaves_the_gan_view_hidden(qtbot, window):
    panel = show_training_panel(qtbot, window)
    panel.plots.clear("accuracy", 2)
    for epoch in (1, 2):
        event = EpochEnd(epoch, 2, {"loss": 0.5, "accuracy": 0.8},
                         {"loss": 0.6, "accuracy": 0.7}, 1e-3, 0.1, 1000.0, True)  # fmt: skip
        panel.plots.add_epoch(event)
    panel.plots.refresh_all()
    assert not panel.plots.gan.isVisible() and panel.plots.graphics.isVisible()
    assert panel.plots.point_count("val_metric") == 2


def test_new_clears_the_gan_view(qtbot, window):
    panel = show_training_panel(qtbot, window)
    panel.plots.add_epoch(gan_epoch(1))
    panel.show_view(plane_view(1))
    panel.plots.refresh_all()
    assert window.new_file(dialogs.EMPTY_TEMPLATE)
    gan = panel.plots.gan
    assert not gan.isVisible() and panel.plots.graphics.isVisible()
    assert gan.point_count("train_d_loss") == 0
    assert gan.curves["train_d_loss"].getData()[0] is None  # pyqtgraph's empty curve
    assert len(held(gan.fake)) == 0 and gan.field.image is None


def test_the_plane_stays_square_and_the_curves_get_the_width_left(qtbot, view):
    view.resize(700, 194)  # the GAN view of the Training dock in a 1400x860 window
    view.show_view(plane_view(30))
    view.refresh()
    box = view.space.getViewBox()
    qtbot.waitUntil(lambda: abs(box.width() - box.height()) <= 2)
    for plot in view.plots.values():
        assert plot.getViewBox().width() >= 180 and plot.getViewBox().height() >= 60
