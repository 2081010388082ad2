"""Helpers shared by the shape rules of the catalogue.

Every message here completes a sentence that analysis prefixes with the node id and the
layer type: ``fc2: Linear expects a flat input (features,), got (8, 4, 4); add a
Flatten before it``.
"""

from math import prod

from engine.errors import ShapeError
from engine.layers.spec import Shape


def fmt(shape: Shape) -> str:
    """A shape as users see it: ``(1, 28, 28)``, ``(64,)``."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def expect_rank(shape: Shape, ranks: tuple[int, ...], what: str, hint: str = "") -> None:
    """Raise ShapeError unless ``len(shape)`` is one of ``ranks``.

    Args:
        shape: the incoming shape, without batch.
        ranks: allowed numbers of dimensions.
        what: the expected input in words, e.g. ``"a flat input (features,)"``.
        hint: an action that fixes it, e.g. ``"add a Flatten before it"``.
    """
    if len(shape) not in ranks:
        message = f"expects {what}, got {fmt(shape)}"
        raise ShapeError(f"{message}; {hint}" if hint else message)


def numel(shape: Shape) -> int:
    """Number of elements of one sample."""
    return prod(shape)


def same_shapes(shapes: list[Shape], layer: str) -> Shape:
    """The common shape of merged inputs, or ShapeError naming the mismatch."""
    first = shapes[0]
    for index, other in enumerate(shapes[1:], start=2):
        if other != first:
            raise ShapeError(
                f"needs inputs of the same shape, got {fmt(first)} on in1 and "
                f"{fmt(other)} on in{index}"
            )
    return first


def broadcast_shapes(shapes: list[Shape], layer: str) -> Shape:
    """The shape of merged inputs that agree except where one has size 1 (a gate of
    (C, 1, 1) times a (C, H, W) map), or ShapeError naming the mismatch. Inputs of
    different ranks are refused: torch would pad them silently, and a (32,) meeting a
    (32, 1) is a mistake far more often than a wish."""
    result = list(shapes[0])
    for index, other in enumerate(shapes[1:], start=2):
        agree = len(other) == len(result) and all(
            a == b or a == 1 or b == 1 for a, b in zip(result, other)
        )
        if not agree:
            raise ShapeError(
                f"needs inputs of the same shape, or of size 1 where they differ (a (C, 1, 1) "
                f"gate and a (C, H, W) map), got {fmt(tuple(shapes[0]))} on in1 and "
                f"{fmt(other)} on in{index}"
            )
        result = [max(a, b) if 1 in (a, b) else a for a, b in zip(result, other)]
    return tuple(result)


def normalize_dim(dim: int, rank_with_batch: int, name: str = "dim") -> int:
    """Turn a torch-style ``dim`` (counting the batch) into a non-negative index.

    Raises ShapeError when it is out of range or names the batch dimension.
    """
    index = dim + rank_with_batch if dim < 0 else dim
    if not 0 <= index < rank_with_batch:
        raise ShapeError(
            f"has {name}={dim}, but its input has only {rank_with_batch} dimensions "
            f"counting the batch"
        )
    if index == 0:
        raise ShapeError(
            f"cannot work along the batch dimension ({name}={dim}); use {name}=1 or more"
        )
    return index


def resolve_sizes(sizes: tuple[int, ...], total: int, what: str, source: Shape) -> Shape:
    """Sizes with at most one ``-1`` resolved so that they hold ``total`` values.

    Args:
        sizes: the target sizes, each positive or ``-1`` ("whatever is left").
        total: the number of values to hold.
        what: how the target is named in messages (``"the shape"``).
        source: the incoming shape, for messages.
    """
    if any(s == 0 or s < -1 for s in sizes):
        raise ShapeError(f"has {what} {fmt(sizes)}; use positive sizes, or -1 for one of them")
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    if len(unknown) > 1:
        raise ShapeError(f"has {what} {fmt(sizes)} with more than one -1; keep at most one")
    known = numel(tuple(s for s in sizes if s != -1))
    if unknown:
        if total % known:
            raise ShapeError(
                f"cannot fit {fmt(source)} ({total} values) into {what} {fmt(sizes)}: "
                f"{total} is not a multiple of {known}"
            )
        resolved = list(sizes)
        resolved[unknown[0]] = total // known
        return tuple(resolved)
    if known != total:
        raise ShapeError(
            f"cannot turn {fmt(source)} ({total} values) into {what} {fmt(sizes)} "
            f"({known} values); the number of values must stay the same"
        )
    return tuple(sizes)


def image_guess(count: int) -> str:
    """A plausible (channels, height, width) for ``count`` values, for hints."""
    for channels in (1, 3):
        side = round((count / channels) ** 0.5)
        if side > 1 and channels * side * side == count:
            return fmt((channels, side, side))
    return "(channels, height, width)"
