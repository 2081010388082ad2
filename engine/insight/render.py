"""Tensors as pictures a learner can read, as ``(H, W, 3)`` uint8 arrays (NumPy only).

- a stack of feature maps ``(C, H, W)``: a grid of the first ``MAX_MAPS`` maps, each
  stretched over the whole colour map on its own (a faint map shows its pattern too);
- an image (``kind="image"``: an Input, a decoder's output) with 1 or 3 channels: the
  image itself, in grey or colour;
- a vector: a heat strip, wrapped into rows of ``STRIP_WIDTH`` cells, blue for negative,
  white for zero, red for positive;
- a matrix (attention, a sequence of features): the matrix, in a sequential colour map
  when it has no negative values, else in the diverging one;
- convolution weights (``filters_picture``): one tile per filter.

One pixel per value: ``enlarge`` scales a picture up for a file. ``write_png`` writes
atomically (a reader sees the old file or the new one, never half of one).
"""

from __future__ import annotations

import math
import os

import numpy as np

MAX_MAPS = 64  # feature maps shown of a (C, H, W) tensor
MAX_SIDE = 1024  # pixels along a grid's side before tiles are subsampled
MAX_MATRIX = 256  # rows and columns of a matrix shown
STRIP_WIDTH = 64  # cells per row of a vector's heat strip
MAX_CELLS = 65536  # values of a vector shown
GAP = (40, 40, 40)  # between tiles, and after a strip's last value


def colour_table(stops) -> np.ndarray:
    """255 colours ``(255, 3)`` uint8 interpolated linearly between evenly spaced
    ``stops``: a colour map that ``colour`` reads by index (an odd count, so that the
    middle stop, a diverging map's zero, is one of them)."""
    stops = np.asarray(stops, np.float32)
    position = np.linspace(0, len(stops) - 1, 255, dtype=np.float32)
    low = np.minimum(position.astype(np.int64), len(stops) - 2)
    part = (position - low)[:, None]
    return np.round(stops[low] * (1 - part) + stops[low + 1] * part).astype(np.uint8)


# viridis at 0, 1/4, 1/2, 3/4 and 1: dark purple to yellow
SEQUENTIAL = colour_table(
    [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
)
# coolwarm: blue, near-white at zero, red
DIVERGING = colour_table([(59, 76, 192), (221, 221, 221), (180, 4, 38)])


def picture(tensor, *, kind: str | None = None, aspect: float | None = None) -> np.ndarray:
    """A picture of one sample's tensor (see the module docstring for the forms).

    Args:
        tensor: a torch tensor or array, without the batch dimension.
        kind: ``image`` for a tensor that is an image (an Input, a reconstruction),
            ``attention`` for attention weights; None to judge by shape.
        aspect: the width / height of the room the picture will be shown in (the
            canvas's slot under a node): feature maps are laid out in as many columns
            as make them largest there. None: a square-ish grid.

    Returns:
        An ``(H, W, 3)`` uint8 array.
    """
    values = _array(tensor)
    if values.ndim == 0:
        values = values.reshape(1)
    if values.ndim >= 3 and math.prod(values.shape[-2:]) == 1:
        values = values.reshape(-1)  # (C, 1, 1) after global pooling: a vector
    if values.ndim == 1:
        return heat_strip(values)
    if values.ndim == 2:
        if kind == "image":
            return image(values[None])
        return matrix(values, sequential=kind == "attention" or values.min() >= 0)
    if values.ndim > 3:
        values = values.reshape(-1, *values.shape[-2:])
    if kind == "image" and values.shape[0] in (1, 3):
        return image(values)
    return feature_maps(values, aspect=aspect)


def feature_maps(
    maps: np.ndarray, limit: int = MAX_MAPS, aspect: float | None = None
) -> np.ndarray:
    """A grid of the first ``limit`` maps of ``(C, H, W)``, each normalised on its own,
    in columns that fit a room of width / height ``aspect`` best (None: square-ish)."""
    maps = np.asarray(maps, np.float32)[:limit]
    columns = _columns(len(maps)) if aspect is None else _fitting_columns(maps.shape, aspect)
    step = max(1, math.ceil(max(maps.shape[1:]) * columns / MAX_SIDE))
    maps = maps[:, ::step, ::step]
    return grid(colour(_stretch(maps, axes=(1, 2)), SEQUENTIAL), columns)


def image(channels: np.ndarray) -> np.ndarray:
    """An image of 1 (grey) or 3 (RGB) channels ``(C, H, W)``, stretched to full contrast."""
    values = _stretch(np.asarray(channels, np.float32))
    pixels = np.moveaxis(values, 0, -1)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return np.round(pixels * 255).astype(np.uint8)


def heat_strip(vector: np.ndarray, width: int = STRIP_WIDTH) -> np.ndarray:
    """A vector as rows of ``width`` cells (one row when shorter), zero in white."""
    vector = np.asarray(vector, np.float32).reshape(-1)[:MAX_CELLS]
    width = max(width, math.ceil(math.sqrt(len(vector))))
    if len(vector) <= width:
        return diverging(vector[None])
    rows = math.ceil(len(vector) / width)
    cells = diverging(vector)
    strip = np.empty((rows * width, 3), np.uint8)
    strip[:] = GAP
    strip[: len(vector)] = cells
    return strip.reshape(rows, width, 3)


def matrix(values: np.ndarray, *, sequential: bool = False) -> np.ndarray:
    """A 2-D tensor as a matrix of cells (its first ``MAX_MATRIX`` rows and columns)."""
    values = np.asarray(values, np.float32)[:MAX_MATRIX, :MAX_MATRIX]
    if sequential:
        return colour(_stretch(values), SEQUENTIAL)
    return diverging(values)


def filters_picture(weight) -> np.ndarray:
    """Convolution weights ``(out, in, kh, kw)`` (or ``(out, in, k)``) as tiles.

    One tile per filter when it reads 1 channel (grey, zero in white) or 3 (colour);
    else a row per filter (first 32) and a column per input channel (first 16). A
    Linear's ``(out, in)`` weights are a matrix. Each filter has its own scale.
    """
    values = _array(weight)
    if values.ndim == 2:
        return diverging(values[:MAX_MATRIX, :MAX_MATRIX])
    if values.ndim == 3:
        values = values[:, :, None, :]
    if values.ndim != 4:
        return picture(values)
    if values.shape[1] == 3:
        return grid([image(f) for f in values[:MAX_MAPS]])
    if values.shape[1] == 1:
        return grid([diverging(f[0]) for f in values[:MAX_MAPS]])
    kept = values[:32, :16]
    tiles = [diverging(channel, scale=np.abs(f).max()) for f in kept for channel in f]
    return grid(tiles, columns=kept.shape[1])


def diverging(values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Blue below zero, white at zero, red above, saturated at ``scale`` (default the
    largest magnitude)."""
    values = np.asarray(values, np.float32)
    scale = float(np.abs(values).max()) if scale is None and values.size else scale or 0.0
    unit = values / scale if scale > 0 else np.zeros_like(values)
    return colour((unit + 1) / 2, DIVERGING)


def colour(unit: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (others are clipped) as colours of ``table`` (``colour_table``)."""
    index = np.clip(unit, 0, 1) * (len(table) - 1) + 0.5
    return np.take(table, index.astype(np.uint8), axis=0)  # 5 times faster than table[i]


def grid(tiles, columns: int | None = None) -> np.ndarray:
    """Tiles of one size ``(h, w, 3)`` (a list, or an array ``(n, h, w, 3)``) in rows,
    one pixel apart."""
    tiles = np.asarray(tiles, np.uint8)
    count, h, w = tiles.shape[:3]
    columns = columns or _columns(count)
    rows = math.ceil(count / columns)
    padded = np.empty((rows * columns, h + 1, w + 1, 3), np.uint8)
    padded[:] = GAP
    padded[:count, :h, :w] = tiles
    out = padded.reshape(rows, columns, h + 1, w + 1, 3).transpose(0, 2, 1, 3, 4)
    return out.reshape(rows * (h + 1), columns * (w + 1), 3)[:-1, :-1]


def enlarge(array: np.ndarray, min_side: int = 256, max_side: int = 2048) -> np.ndarray:
    """``array`` scaled up by a whole factor (nearest neighbour) so that its longer side
    reaches about ``min_side``, without passing ``max_side``."""
    longest = max(array.shape[:2])
    factor = max(1, min(math.ceil(min_side / longest), max_side // longest))
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)


def write_png(array: np.ndarray, path: str | os.PathLike) -> None:
    """Write an ``(H, W, 3)`` (or ``(H, W)``) uint8 picture as a PNG, atomically.

    Raises:
        ProjectError: the file cannot be written (a sentence naming it).
    """
    import io
    from pathlib import Path

    from PIL import Image

    from engine.project import write_atomic

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array, np.uint8)).save(buffer, format="PNG")
    write_atomic(Path(path), buffer.getvalue())


def _array(tensor) -> np.ndarray:
    """``tensor`` as a float32 NumPy array, NaN as 0 and infinities at float32's range."""
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().cpu().float().numpy()
    return np.nan_to_num(np.asarray(tensor, np.float32))


def _stretch(values: np.ndarray, axes=None) -> np.ndarray:
    """``values`` mapped linearly onto [0, 1] over ``axes`` (all: None); a constant part
    maps to 0."""
    values = np.asarray(values, np.float32)
    low = values.min(axis=axes, keepdims=True)
    span = values.max(axis=axes, keepdims=True).astype(np.float64) - low
    biggest = np.finfo(np.float32).max
    scale = 1 / np.where(span > 0, span, np.inf)
    if span.max(initial=0) > biggest or scale.max(initial=0) > biggest:
        values, low = values.astype(np.float64), low.astype(np.float64)  # float32 overflows
    # float32 otherwise: a tenth of the time of float64 on a 100-node network's maps
    scale = scale.astype(values.dtype)
    return ((values - low) * scale).astype(np.float32, copy=False)


def _columns(count: int) -> int:
    return max(1, math.ceil(math.sqrt(count)))


def _fitting_columns(shape: tuple, aspect: float) -> int:
    """The columns that show ``shape``'s ``(count, h, w)`` tiles largest in a room of
    width / height ``aspect``."""
    count, h, w = shape

    def scale(columns: int) -> float:
        rows = math.ceil(count / columns)
        return min(aspect / (columns * (w + 1) - 1), 1 / (rows * (h + 1) - 1))

    return max(range(1, count + 1), key=scale) if count else 1
