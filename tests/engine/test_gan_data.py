"""The GAN data sets (rings, grid, spiral), undoing normalisation, and mode coverage."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engine.data import check_section, dataset_names, load_dataset
from engine.data.builtin import BUILTINS, bundled
from engine.data.modes import centers, dataset_coverage, mode_coverage
from engine.data.split import split_indices
from engine.data_fit import describe
from engine.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
GAN_SETS = ("rings", "grid", "spiral")


def load(name: str, **params):
    return load_dataset({"name": name, "params": params})


# ------------------------------------------------------------------ the data sets
def test_rings_are_eight_gaussians_on_a_circle_in_the_planes_coordinates():
    data = load("rings", n_samples=800, validation_split=0)
    assert data.x_train.dtype == np.float32 and data.sample_shape == (2,)
    assert data.y_train.dtype == np.int64 and data.num_classes == 8
    assert data.x_mean is None  # not normalised by default: the plane's coordinates
    modes = centers("rings")
    assert np.allclose(np.linalg.norm(modes, axis=1), 2.0)
    offset = data.x_train - modes[data.y_train]  # y is the mode each point came from
    assert abs(offset.std() - 0.05) < 0.01 and np.bincount(data.y_train).tolist() == [100] * 8


def test_grid_is_25_gaussians_spacing_apart_around_zero():
    data = load("grid", spacing=3.0, std=0.1, n_samples=2500, validation_split=0)
    modes = centers("grid", {"spacing": 3.0})
    assert len(modes) == 25 and np.allclose(modes.mean(axis=0), 0)
    assert sorted(set(modes[:, 0].tolist())) == [-6.0, -3.0, 0.0, 3.0, 6.0]
    offset = data.x_train - modes[data.y_train]
    assert data.num_classes == 25 and abs(offset.std() - 0.1) < 0.01


def test_spiral_is_one_continuous_arm_unlike_the_spirals_classes():
    data = load("spiral", n_samples=2000, noise=0.0, validation_split=0)
    x, turn = data.x_train, data.y_train
    radius = np.linalg.norm(x, axis=1)
    angle = np.arctan2(x[:, 1], x[:, 0])
    # one arm: the radius fixes the angle (r = 2 * a / (2 pi turns), a the unwound angle)
    unwound = radius / 2.0 * 2 * np.pi * 2
    assert np.allclose(np.cos(unwound), np.cos(angle), atol=1e-3)
    assert radius.max() <= 2.0 and data.num_classes == 2
    assert (radius[turn == 0].max() <= radius[turn == 1].min() + 1e-6) and set(turn) == {0, 1}
    assert "spirals" in dataset_names() and "one arm" in data.description
    assert load("spirals").description != data.description


def test_the_gan_sets_are_named_wherever_the_other_datasets_are():
    readme = (ROOT / "README.md").read_text()
    data_line = re.search(r"- \*\*Data\*\*, offline:(.*?)\n- \*\*", readme, re.S).group(1)
    for name in BUILTINS:
        assert name in dataset_names()
        assert f"`{name}`" in data_line, f"README's data list does not name {name}"
    with pytest.raises(DataError, match="rings, grid, spiral"):
        check_section({"name": "ring"})  # the known names are listed


@pytest.mark.parametrize("name", list(BUILTINS))
def test_every_builtin_is_described_without_loading_as_it_loads(name):
    assert describe({"name": name}) == load(name).info()


@pytest.mark.parametrize(
    ("params", "key"),
    [({"radius": -1.0}, "radius"), ({"std": "wide"}, "std"), ({"std": float("nan")}, "std"),
     ({"spacing": True}, "spacing"), ({"normalize": "no"}, "normalize")],
)  # fmt: skip
def test_wrong_params_are_one_sentence_naming_the_param(params, key):
    name = "grid" if key == "spacing" else "rings"
    with pytest.raises(DataError, match=f"dataset {name}: .*{key}.* must be"):
        check_section({"name": name, "params": params})


def test_a_spiral_needs_a_whole_turn():
    with pytest.raises(DataError, match='"turns" must be a whole number of 1 or more'):
        check_section({"name": "spiral", "params": {"turns": 0}})
    with pytest.raises(DataError, match='"turns" must be a whole number'):
        check_section({"name": "spiral", "params": {"turns": 1.5}})


# ------------------------------------------------------------------ denormalize
def test_normalised_digits_go_back_to_scikit_learns_0_to_16_pixels():
    data = load("digits")
    arrays = bundled("digits")
    train, _ = split_indices(len(arrays["target"]), 0.2, 0, arrays["target"].astype(np.int64))
    assert data.x_mean is not None and abs(float(data.x_train.mean())) < 1e-4
    pixels = arrays["images"][train][:, None]
    assert np.allclose(data.denormalize(data.x_train), pixels, atol=1e-4)
    flat = data.denormalize(data.x_train.reshape(len(train), 64))  # a Linear generator's output
    assert flat.shape == (len(train), 1, 8, 8) and np.allclose(flat, pixels, atol=1e-4)
    raw = load("digits", normalize=False)
    assert raw.x_mean is None and np.allclose(raw.denormalize(raw.x_train), pixels)


def test_unnormalised_rings_denormalize_to_the_same_points():
    data = load("rings")
    assert np.array_equal(data.denormalize(data.x_train), data.x_train)
    batch = data.x_train[:6].reshape(2, 3, 2)  # any leading batch axes
    assert np.array_equal(data.denormalize(batch), batch)


def test_normalised_rings_denormalize_to_the_planes_coordinates():
    plane, normalised = load("rings"), load("rings", normalize=True)
    assert normalised.x_std.shape == (2,) and abs(float(normalised.x_train.std()) - 1) < 0.01
    assert np.allclose(normalised.denormalize(normalised.x_val), plane.x_val, atol=1e-5)


def test_samples_of_another_shape_are_refused_with_both_shapes():
    data = load("digits")
    with pytest.raises(DataError, match=r"shape \(5, 63\) are not digits samples of \(1, 8, 8\)"):
        data.denormalize(np.zeros((5, 63), np.float32))


# ------------------------------------------------------------------ mode coverage
def test_points_all_on_one_mode_cover_one():
    result = mode_coverage(np.tile(centers("rings")[3], (1000, 1)), centers("rings"), 0.05)
    assert result.covered == 1 and result.near_share == 1.0
    assert result.per_mode_share.tolist() == [0, 0, 0, 1, 0, 0, 0, 0]


def test_points_from_the_true_distribution_cover_every_mode():
    rings = load("rings", n_samples=1000, validation_split=0)
    result = dataset_coverage("rings", {}, rings.x_train)
    assert result.covered == 8 and result.near_share > 0.95
    grid = load("grid", n_samples=2500, validation_split=0)
    result = dataset_coverage("grid", {}, grid.x_train)  # 4 % each: covered, 5 % is rings'
    assert result.covered == 25 and result.near_share > 0.95


def test_a_mode_is_covered_from_five_percent_of_the_samples_near_it():
    modes = centers("rings")
    points = np.concatenate([np.tile(modes[0], (5, 1)), np.tile(modes[1], (4, 1)),
                             np.full((91, 2), 0.0)])  # fmt: skip
    result = mode_coverage(points, modes, 0.05)
    assert result.covered == 1 and result.near_share == pytest.approx(0.09)
    assert result.per_mode_share[:2].tolist() == [0.05, 0.04]


def test_points_between_modes_or_not_numbers_are_near_none():
    modes = centers("rings")
    between = (modes[0] + modes[1]) / 2
    points = np.vstack([np.tile(between, (50, 1)), np.full((50, 2), np.nan)])
    result = mode_coverage(points, modes, 0.05)
    assert result.covered == 0 and result.near_share == 0.0


def test_coverage_refuses_what_it_cannot_measure():
    with pytest.raises(DataError, match="spiral has no known modes"):
        centers("spiral")
    with pytest.raises(DataError, match="do not hold 2 numbers each"):
        mode_coverage(np.zeros((10, 3)), centers("rings"), 0.05)
    with pytest.raises(DataError, match="std must be a number of 0 or more"):
        mode_coverage(np.zeros((10, 2)), centers("rings"), -1.0)
    assert np.allclose(np.linalg.norm(centers("rings", {"radius": 3.5}), axis=1), 3.5)
