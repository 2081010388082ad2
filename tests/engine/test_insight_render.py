"""Pictures of tensors: feature-map grids, images, heat strips, matrices, filters, PNGs."""

import os

import numpy as np
import pytest
import torch
from PIL import Image

from engine.errors import ProjectError
from engine.insight import render
from engine.insight.probe import Probe
from tests.engine.builders import chain


def test_feature_maps_are_a_grid_of_tiles_with_at_most_64_maps():
    four = render.picture(torch.randn(4, 8, 8))
    assert four.shape == (17, 17, 3) and four.dtype == np.uint8
    many = render.picture(torch.randn(100, 4, 4))
    assert many.shape == (8 * 5 - 1, 8 * 5 - 1, 3)  # the first 64, eight by eight


def test_each_map_is_stretched_on_its_own():
    maps = np.stack([np.eye(4), np.eye(4) * 1e-4])
    tiles = render.picture(maps)
    assert np.array_equal(tiles[:4, :4], tiles[:4, 5:])  # the faint map looks the same


@pytest.mark.parametrize(
    "low, high",
    [(-3.4e38, 3.4e38), (1000.0, 1000.001), (1e-41, 2e-41), (-1e-30, 1e30)],
    ids=["the whole float32 range", "a small step far from zero", "denormals", "wide"],
)
def test_any_range_of_values_is_stretched_from_0_to_1(low, high):
    values = np.array([[low, high], [high, low]], np.float32)
    assert np.array_equal(render._stretch(values, axes=(0, 1)), [[0, 1], [1, 0]])


def test_images_are_shown_as_images_when_the_kind_says_so():
    grey = render.picture(torch.arange(64.0).reshape(1, 8, 8), kind="image")
    assert grey.shape == (8, 8, 3)
    assert (grey[..., 0] == grey[..., 1]).all() and grey[0, 0, 0] == 0 and grey[7, 7, 0] == 255
    rgb = np.zeros((3, 2, 2), np.float32)
    rgb[0] = 1.0  # all red
    assert render.picture(rgb, kind="image")[0, 0].tolist() == [255, 0, 0]
    assert render.picture(torch.randn(1, 8, 8)).shape == (8, 8, 3)  # one map, no kind


def test_a_vector_is_a_heat_strip_with_zero_in_the_middle_of_the_colours():
    strip = render.picture(torch.tensor([-2.0, 0.0, 1.0, 2.0]))
    assert strip.shape == (1, 4, 3)
    blue, white, pink, red = strip[0].astype(int)
    assert blue[2] > blue[0] and red[0] > red[2]  # negative blue, positive red
    assert white.min() > 200 and np.ptp(white) == 0
    assert pink[0] > pink[2] and pink.min() > red.min()  # half as strong: paler
    wrapped = render.picture(torch.randn(100))
    assert wrapped.shape == (2, 64, 3)
    assert render.picture(torch.randn(32, 1, 1)).shape == (1, 32, 3)  # after global pooling


def test_matrices_keep_their_shape():
    assert render.picture(torch.randn(5, 7)).shape == (5, 7, 3)
    attention = torch.softmax(torch.randn(6, 6), dim=-1)
    assert render.picture(attention, kind="attention").shape == (6, 6, 3)
    assert render.picture(torch.tensor(3.0)).shape == (1, 1, 3)
    assert render.picture(torch.randn(2, 3, 4, 4)).shape == (2 * 5 - 1, 3 * 5 - 1, 3)  # 6 maps


def test_nan_and_infinity_give_a_picture():
    values = torch.tensor([[float("nan"), float("inf")], [-float("inf"), 1.0]])
    assert render.picture(values[None].repeat(2, 1, 1)).shape == (2, 5, 3)
    assert render.picture(values.flatten()).shape == (1, 4, 3)


def test_filters_are_tiles_one_per_filter_or_per_filter_and_channel():
    assert render.filters_picture(torch.randn(16, 1, 3, 3)).shape == (15, 15, 3)
    assert render.filters_picture(torch.randn(8, 3, 5, 5)).shape == (17, 17, 3)
    assert render.filters_picture(torch.randn(4, 5, 3, 3)).shape == (15, 19, 3)
    assert render.filters_picture(torch.randn(6, 2, 3)).shape == (11, 7, 3)  # Conv1d
    assert render.filters_picture(torch.randn(10, 64)).shape == (10, 64, 3)  # Linear


def test_a_vertical_stroke_gives_feature_maps_that_show_it():
    network = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                    input_shape=(1, 8, 8))  # fmt: skip
    stroke = torch.zeros(1, 8, 8)
    stroke[:, 1:7, 3] = 1.0
    outputs = Probe(network, seed=1).run({"input": stroke})
    maps = outputs["conv2d1", "out"].tensor
    assert (maps.flatten(1).std(dim=1) > 0).all()
    tiles = render.picture(maps)
    first = tiles[:8, :8].astype(int)
    assert np.ptp(first.reshape(-1, 3), axis=0).max() > 50  # not one flat colour
    edge = chain(("Conv2d", {"out_channels": 1, "kernel_size": 3, "padding": 1, "bias": False}),
                 input_shape=(1, 8, 8))  # fmt: skip
    weight = torch.tensor([[-1.0, 0.0, 1.0]] * 3)[None, None]
    seen = Probe(edge, state={"conv2d1.weight": weight}).run({"input": stroke})
    row = render.picture(seen["conv2d1", "out"].tensor)[4].tolist()
    top, bottom, middle = [253, 231, 37], [68, 1, 84], row[0]  # the colour map's ends
    assert row[2] == top and row[4] == bottom  # the stroke's two sides
    assert middle not in (top, bottom) and row.count(middle) == 6


def test_enlarge_scales_by_a_whole_factor():
    small = render.picture(torch.randn(10))
    big = render.enlarge(small, min_side=100)
    assert big.shape == (10, 100, 3) and (big[:, :10] == small[0, 0]).all()
    assert render.enlarge(np.zeros((3000, 10, 3), np.uint8)).shape == (3000, 10, 3)


def test_write_png_writes_the_picture_and_leaves_no_temporary_file(tmp_path):
    array = render.picture(torch.randn(4, 8, 8))
    path = tmp_path / "conv1.png"
    render.write_png(array, path)
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), array)
    assert os.listdir(tmp_path) == ["conv1.png"]
    with pytest.raises(ProjectError, match="cannot save"):
        render.write_png(array, tmp_path / "missing" / "x.png")
