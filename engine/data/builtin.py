"""Datasets that need no download: small bundled sets and synthetic ones.

Bundled (copies of scikit-learn's, shipped as compressed ``.npz`` files in
``resources/data``, so reading them imports nothing heavy): ``digits`` (8x8 grey
images, 10 classes), ``iris``, ``wine``, ``breast_cancer`` (tabular classification) and
``diabetes`` (regression). Synthetic, generated from the seed: ``moons``, ``circles``, ``spirals``,
``xor`` (2-D points with noise, classification), ``sine`` (forecast the next value of
a sine wave from ``steps`` values) and ``sequences`` (int64 token sequences whose class
is the marker token they repeat, for Embedding and Transformer networks).

For GANs, 2-D distributions whose samples are the point (the adversarial recipe reads
only x; y is the mode, so they also classify): ``rings`` (8 Gaussians on a circle),
``grid`` (25 Gaussians on a 5x5 grid) and ``spiral`` (one continuous arm; ``spirals`` is
the classification set of interleaved arms). They keep the plane's coordinates by
default (``normalize`` false), so generated points and the true modes
(``engine.data.modes``) are compared in the units the params give.
"""

from __future__ import annotations

import numpy as np

from engine.data.base import Raw
from engine.errors import DataError
from engine.resources import data_file

BUNDLED = ("digits", "iris", "wine", "breast_cancer", "diabetes")


def bundled(name: str) -> dict[str, np.ndarray]:
    """The arrays of the bundled data set ``name`` (``resources/data/NAME.npz``)."""
    path = data_file(f"{name}.npz")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {key: arrays[key] for key in arrays.files}
    except (OSError, ValueError, EOFError) as error:
        raise DataError(
            f"{name}: the built-in data file {path} is missing or damaged ({error}); "
            "reinstall Deepwire"
        ) from None


def digits(params: dict, seed: int) -> Raw:
    """The 1797 handwritten digits as (1, 8, 8) images in [0, 1] (scikit-learn's 0-16 / 16).

    ``classes`` (a list such as ``[0, 1, 2, 3, 4]``) keeps only those digits, with
    labels renumbered 0..k-1 in the list's order; null keeps all ten.
    """
    arrays = bundled("digits")
    x = (arrays["images"] / 16.0).astype(np.float32)[:, None, :, :]
    y = arrays["target"].astype(np.int64)
    names = [str(n) for n in arrays["target_names"]]
    classes = params.get("classes")
    if classes is not None:
        ok = (
            isinstance(classes, list)
            and len(classes) >= 2
            and all(type(c) is int and 0 <= c <= 9 for c in classes)
        )
        if not ok or len(set(classes)) != len(classes):
            raise DataError(
                'dataset digits: "classes" must be a list of 2 or more different digits 0-9, '
                f"such as [0, 1, 2, 3, 4], not {classes!r}"
            )
        keep = np.isin(y, classes)
        relabel = np.zeros(10, dtype=np.int64)
        relabel[classes] = np.arange(len(classes))
        x, y, names = x[keep], relabel[y[keep]], [names[c] for c in classes]
    return Raw(x, y, "classification", "image", names,
               "handwritten digits 0-9, 8x8 pixels", x_scale=16.0)  # fmt: skip


def _tabular(name: str, description: str) -> Raw:
    arrays = bundled(name)
    names = [str(n) for n in arrays["target_names"]]
    return Raw(arrays["data"].astype(np.float32), arrays["target"].astype(np.int64),
               "classification", "tabular", names, description)  # fmt: skip


def iris(params: dict, seed: int) -> Raw:
    """150 iris flowers, 4 measurements, 3 species."""
    return _tabular("iris", "iris flowers: 4 measurements, 3 species")


def wine(params: dict, seed: int) -> Raw:
    """178 wines, 13 chemical measurements, 3 cultivars."""
    return _tabular("wine", "wines: 13 chemical measurements, 3 cultivars")


def breast_cancer(params: dict, seed: int) -> Raw:
    """569 tumours, 30 measurements, malignant or benign."""
    return _tabular("breast_cancer", "breast tumours: 30 measurements, malignant or benign")


def diabetes(params: dict, seed: int) -> Raw:
    """442 patients, 10 measurements, disease progression after one year."""
    arrays = bundled("diabetes")
    y = arrays["target"].astype(np.float32)[:, None]
    return Raw(arrays["data"].astype(np.float32), y, "regression", "tabular", [],
               "diabetes: 10 measurements -> disease progression")  # fmt: skip


def _points(x: np.ndarray, y: np.ndarray, noise: float, rng, text: str) -> Raw:
    x = x + rng.normal(0.0, noise, x.shape)
    names = [str(c) for c in range(int(y.max()) + 1)]
    return Raw(x.astype(np.float32), y.astype(np.int64), "classification", "tabular", names, text)


def moons(params: dict, seed: int) -> Raw:
    """Two interleaving half circles."""
    n, rng = params["n_samples"], np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    label = np.arange(n) % 2
    x = np.where(label[:, None] == 0,
                 np.stack([np.cos(t), np.sin(t)], 1),
                 np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))  # fmt: skip
    return _points(x, label, params["noise"], rng, "two moons: 2-D points, 2 classes")


def circles(params: dict, seed: int) -> Raw:
    """A small circle inside a large one."""
    n, rng = params["n_samples"], np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    label = np.arange(n) % 2
    radius = np.where(label == 0, 1.0, params["factor"])
    x = np.stack([np.cos(t), np.sin(t)], 1) * radius[:, None]
    return _points(x, label, params["noise"], rng, "circles: 2-D points, 2 classes")


def spirals(params: dict, seed: int) -> Raw:
    """``classes`` arms of a spiral winding around the origin."""
    n, k, rng = params["n_samples"], params["classes"], np.random.default_rng(seed)
    label = np.arange(n) % k
    r = rng.uniform(0.05, 1.0, n)
    t = r * 3 * np.pi + label * 2 * np.pi / k
    x = np.stack([r * np.cos(t), r * np.sin(t)], 1)
    return _points(x, label, params["noise"], rng, f"spirals: 2-D points, {k} classes")


def xor(params: dict, seed: int) -> Raw:
    """Points in four quadrants; the class is the XOR of the two signs."""
    n, rng = params["n_samples"], np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2))
    label = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return _points(x, label, params["noise"], rng, "XOR: 2-D points, 2 classes")


def ring_centers(radius: float, modes: int = 8) -> np.ndarray:
    """The modes of ``rings``: ``modes`` points evenly on a circle, the first on the x axis."""
    angle = 2 * np.pi * np.arange(modes) / modes
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)


def grid_centers(spacing: float, side: int = 5) -> np.ndarray:
    """The modes of ``grid``: ``side`` x ``side`` points ``spacing`` apart around 0, row by row."""
    steps = (np.arange(side) - (side - 1) / 2) * spacing
    across, up = np.meshgrid(steps, steps)
    return np.stack([across.ravel(), up.ravel()], 1)


def _gaussians(centers: np.ndarray, params: dict, seed: int, text: str) -> Raw:
    """Samples spread equally over Gaussians of ``params["std"]`` around ``centers``."""
    n, rng = params["n_samples"], np.random.default_rng(seed)
    mode = np.arange(n) % len(centers)
    x = centers[mode] + rng.normal(0.0, params["std"], (n, 2))
    names = [str(c) for c in range(len(centers))]
    return Raw(
        x.astype(np.float32), mode.astype(np.int64), "classification", "tabular", names, text
    )


def rings(params: dict, seed: int) -> Raw:
    """8 Gaussians on a circle of ``radius``; the class is the mode (for GANs)."""
    text = f"rings: 8 Gaussians on a circle of radius {params['radius']:g}, 2-D points (GANs)"
    return _gaussians(ring_centers(params["radius"]), params, seed, text)


def grid(params: dict, seed: int) -> Raw:
    """25 Gaussians on a 5x5 grid ``spacing`` apart around 0; the class is the mode."""
    text = f"grid: 25 Gaussians {params['spacing']:g} apart, 2-D points (GANs)"
    return _gaussians(grid_centers(params["spacing"]), params, seed, text)


def spiral(params: dict, seed: int) -> Raw:
    """One continuous spiral arm of ``turns`` turns out to ``radius``, points spread
    evenly along it; the class is the turn a point lies on (for GANs, unlike ``spirals``)."""
    n, turns, rng = params["n_samples"], params["turns"], np.random.default_rng(seed)
    along = np.sqrt(rng.uniform(0.0, 1.0, n))  # the arm's length grows as its angle squared
    angle = 2 * np.pi * turns * along
    x = np.stack([np.cos(angle), np.sin(angle)], 1) * (params["radius"] * along)[:, None]
    x = x + rng.normal(0.0, params["noise"], x.shape)
    turn = np.minimum((turns * along).astype(np.int64), turns - 1)
    return Raw(x.astype(np.float32), turn, "classification", "tabular",
               [str(c) for c in range(turns)],
               f"spiral: one arm of {turns} turns, 2-D points (GANs)")  # fmt: skip


def sine(params: dict, seed: int) -> Raw:
    """Windows of ``steps`` values of noisy sine waves; the target is the next value."""
    n, steps, rng = params["n_samples"], params["steps"], np.random.default_rng(seed)
    freq = rng.uniform(0.05, 0.25, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(steps + 1)[None, :]
    wave = np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, params["noise"], (n, steps + 1))
    x, y = wave[:, :steps, None], wave[:, steps:]
    return Raw(x.astype(np.float32), y.astype(np.float32), "regression", "sequence", [],
               f"sine waves: {steps} steps -> the next value")  # fmt: skip


def sequences(params: dict, seed: int) -> Raw:
    """Token sequences; class c repeats marker token c a few times among random tokens."""
    n, length = params["n_samples"], params["length"]
    k, vocab = params["classes"], params["vocab_size"]
    rng = np.random.default_rng(seed)
    if vocab <= k:
        raise DataError(f"sequences: vocab_size ({vocab}) must be larger than classes ({k})")
    x = rng.integers(k, vocab, (n, length))
    label = np.arange(n) % k
    repeats = max(1, length // 4)
    for i in range(n):
        x[i, rng.choice(length, repeats, replace=False)] = label[i]
    return Raw(x.astype(np.int64), label.astype(np.int64), "classification", "tokens",
               [str(c) for c in range(k)],
               f"token sequences of {length} ids < {vocab}, {k} classes")  # fmt: skip


_POINTS = {"n_samples": 500, "noise": 0.1}
_PLANE = {"n_samples": 500, "normalize": False}  # GAN sets: points in the plane's units
BUILTINS = {
    "digits": (digits, {"classes": None}),
    "iris": (iris, {}),
    "wine": (wine, {}),
    "breast_cancer": (breast_cancer, {}),
    "diabetes": (diabetes, {}),
    "moons": (moons, dict(_POINTS)),
    "circles": (circles, {**_POINTS, "factor": 0.5, "noise": 0.05}),
    "spirals": (spirals, {**_POINTS, "classes": 2, "noise": 0.02}),
    "xor": (xor, {**_POINTS, "noise": 0.05}),
    "rings": (rings, {**_PLANE, "radius": 2.0, "std": 0.05}),
    "grid": (grid, {**_PLANE, "spacing": 2.0, "std": 0.05}),
    "spiral": (spiral, {**_PLANE, "radius": 2.0, "turns": 2, "noise": 0.05}),
    "sine": (sine, {"n_samples": 1000, "steps": 20, "noise": 0.05}),
    "sequences": (sequences, {"n_samples": 1000, "length": 16, "vocab_size": 20, "classes": 2}),
}
