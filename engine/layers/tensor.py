"""Tensor operations that learn nothing: Permute, Transpose, Mean, Sum, Amax and Stack.

Dimension parameters keep torch's meaning and count the batch (0), so ``dims`` of
Permute is exactly what ``x.permute(...)`` takes; the batch itself never moves and is
never reduced. None holds a module: each is emitted as the tensor method or torch
function a person would write (``x.permute(0, 2, 1)``, ``x.mean(dim=(2, 3))``,
``torch.stack([a, b], dim=1)``).
"""

from engine.errors import ShapeError
from engine.layers.merge import _NUM_INPUTS, _ports, read_joined
from engine.layers.rules import fmt, normalize_dim, numel, same_shapes
from engine.layers.spec import MAX_DIMS, Call, Example, LayerSpec, NoMatch, Param, argument


def _dims_param(name, default, help):
    return Param(name, "shape", default, help, minimum=-MAX_DIMS, maximum=MAX_DIMS)


def _permute_order(params, inputs):
    (shape,) = inputs
    rank = len(shape) + 1
    dims = params["dims"]
    if len(dims) != rank:
        raise ShapeError(
            f"has dims {fmt(tuple(dims))} for {len(dims)} dimensions, but its input has "
            f"{rank} counting the batch; list each of 0 to {rank - 1} once"
        )
    order = [d + rank if d < 0 else d for d in dims]
    if sorted(order) != list(range(rank)):
        raise ShapeError(f"has dims {fmt(tuple(dims))}; list each of 0 to {rank - 1} once")
    if order[0] != 0:
        raise ShapeError(f"has dims {fmt(tuple(dims))}; the batch stays first, so start with 0")
    return order


def _permute_shape(params, inputs):
    full = (0, *inputs[0])
    return tuple(full[d] for d in _permute_order(params, inputs)[1:])


def _permute_emit(graph, target, args, params, inputs):
    return graph.call_method("permute", (args[0], *params["dims"]))


def _read_permute(args, kwargs):
    """``x.permute(0, 2, 1)``, ``x.permute((0, 2, 1))``, ``torch.permute(x, dims=...)``."""
    dims = kwargs.get("dims", args[1:])
    if len(dims) == 1 and isinstance(dims[0], list | tuple):
        dims = dims[0]
    if not dims or not all(type(d) is int for d in dims):
        raise NoMatch("with dimensions that are not plain numbers")
    return {"dims": list(dims)}


def _read_transpose(args, kwargs):
    """``x.transpose(1, 2)``, ``torch.transpose(x, dim0=1, dim1=2)``."""
    dims = [argument(args, kwargs, 1, "dim0"), argument(args, kwargs, 2, "dim1")]
    if not all(type(d) is int for d in dims):
        raise NoMatch("with dimensions that are not plain numbers")
    return {"dim0": dims[0], "dim1": dims[1]}


def _transpose_shape(params, inputs):
    (shape,) = inputs
    rank = len(shape) + 1
    first = normalize_dim(params["dim0"], rank, "dim0")
    second = normalize_dim(params["dim1"], rank, "dim1")
    full = list((0, *shape))
    full[first], full[second] = full[second], full[first]
    return tuple(full[1:])


def _transpose_emit(graph, target, args, params, inputs):
    return graph.call_method("transpose", (args[0], params["dim0"], params["dim1"]))


def _reduced_dims(params, inputs):
    """The non-negative indices (counting the batch) that ``dim`` names."""
    rank = len(inputs[0]) + 1
    indices = [normalize_dim(d, rank) for d in params["dim"]]
    if len(set(indices)) != len(indices):
        raise ShapeError(f"has dim {fmt(tuple(params['dim']))}, which names a dimension twice")
    return indices


def _reduce_shape(params, inputs):
    indices = _reduced_dims(params, inputs)
    full = (0, *inputs[0])
    if params["keepdim"]:
        return tuple(1 if i in indices else n for i, n in enumerate(full))[1:]
    kept = tuple(n for i, n in enumerate(full) if i not in indices)[1:]
    if not kept:
        raise ShapeError(
            f"reduces every dimension of its input {fmt(inputs[0])}, leaving one number per "
            "sample and no shape; turn on keepdim, or reduce fewer dimensions"
        )
    return kept


def _reduce_emit(method):
    def emit(graph, target, args, params, inputs):
        dims = tuple(params["dim"])
        dim = dims[0] if len(dims) == 1 else dims
        return graph.call_method(method, (args[0],), {"dim": dim, "keepdim": params["keepdim"]})

    return emit


def _read_reduction(args, kwargs):
    """``x.mean(dim=(2, 3), keepdim=True)``, ``torch.sum(x, 1)``."""
    dim = argument(args, kwargs, 1, "dim")
    if "dtype" in kwargs or dim is None:
        raise NoMatch("over every dimension or to another dtype")
    dims = list(dim) if isinstance(dim, list | tuple) else [dim]
    if not dims or not all(type(d) is int for d in dims):
        raise NoMatch("over dimensions that are not plain numbers")
    return {"dim": dims, "keepdim": bool(argument(args, kwargs, 2, "keepdim", False))}


def _reduce_summary(params):
    dims = params["dim"]
    text = f"dim {dims[0]}" if len(dims) == 1 else f"dims {', '.join(map(str, dims))}"
    return text + (", keepdim" if params["keepdim"] else "")


def _reduction(name, method, help, input_dtype="float"):
    return LayerSpec(
        name=name,
        family="Reduction",
        help=help,
        params=(
            _dims_param(
                "dim",
                [-1],
                "Dimensions to reduce, counting the batch (1 = the first after it, -1 = "
                "the last); one or several, such as 2, 3 for height and width.",
            ),
            Param("keepdim", "bool", False, "Keep each reduced dimension with size 1."),
        ),
        infer=_reduce_shape,
        macs=lambda p, i, o: numel(i[0]),
        emit=_reduce_emit(method),
        calls=(Call((f"torch.{method}",), (method,), _read_reduction),),
        summary=_reduce_summary,
        input_dtype=input_dtype,
        examples=(
            Example(((3, 4),)),
            Example(((3, 4, 5),), {"dim": [2, 3], "keepdim": True}),
            Example(((6, 5),), {"dim": [1]}),
        ),
    )


def _stack_shape(params, inputs):
    shape = same_shapes(inputs, "Stack")
    index = normalize_dim(params["dim"], len(shape) + 2)
    return (*shape[: index - 1], len(inputs), *shape[index - 1 :])


def _stack_emit(graph, target, args, params, inputs):
    import torch

    return graph.call_function(torch.stack, (list(args),), {"dim": params["dim"]})


SPECS = [
    LayerSpec(
        name="Permute",
        family="Shape",
        help=(
            "Reorders the dimensions of each sample, for example from channels first "
            "(channels, height, width) to channels last (height, width, channels) with "
            "dims 0, 2, 3, 1. dims counts the batch as 0, as x.permute does, and starts "
            "with 0."
        ),
        params=(
            _dims_param(
                "dims",
                [0, 2, 1],
                "The new order of the dimensions, batch (0) first; each listed once.",
            ),
        ),
        infer=_permute_shape,
        emit=_permute_emit,
        calls=(Call(("torch.permute",), ("permute",), _read_permute),),
        summary=lambda p: ", ".join(map(str, p["dims"])),
        input_dtype="any",
        examples=(
            Example(((3, 4),)),
            Example(((3, 4, 5),), {"dims": [0, 2, 3, 1]}),
            Example(((3, 4, 5),), {"dims": [0, -1, 1, 2]}),
        ),
    ),
    LayerSpec(
        name="Transpose",
        family="Shape",
        help=(
            "Swaps two dimensions of each sample, for example a sequence (steps, features) "
            "into (features, steps) so that a Conv1d runs along the steps. dim0 and dim1 "
            "count the batch, as x.transpose does."
        ),
        params=(
            Param(
                "dim0", "int", 1, "One dimension to swap, counting the batch (1 = first after it)."
            ),
            Param("dim1", "int", 2, "The other dimension to swap (-1 = the last)."),
        ),
        infer=_transpose_shape,
        emit=_transpose_emit,
        calls=(Call(("torch.transpose",), ("transpose",), _read_transpose),),
        summary=lambda p: f"{p['dim0']} <-> {p['dim1']}",
        input_dtype="any",
        examples=(
            Example(((3, 4),)),
            Example(((3, 4, 5),), {"dim0": -1, "dim1": 1}),
        ),
    ),
    _reduction(
        "Mean",
        "mean",
        "Averages each sample over dim, for example over height and width (dim 2, 3) "
        "for the squeeze of a squeeze-excite block, or over the steps of a sequence "
        "(dim 1) to pool a Transformer's output.",
    ),
    _reduction(
        "Sum",
        "sum",
        "Adds up each sample's values over dim, for example the steps of a sequence "
        "(dim 1) or all positions of a feature map (dim 2, 3).",
        input_dtype="any",
    ),
    _reduction(
        "Amax",
        "amax",
        "Keeps the largest value over dim (a max pooling over whole dimensions), for "
        "example the strongest response of each channel over height and width (dim 2, 3).",
        input_dtype="any",
    ),
    LayerSpec(
        name="Stack",
        family="Merge",
        help=(
            "Stacks inputs of one shape along a new dimension dim: three (8,) vectors "
            "become (3, 8) with dim 1. Unlike Concat, which joins along an existing "
            "dimension, it adds one."
        ),
        params=(
            _NUM_INPUTS,
            Param(
                "dim",
                "int",
                1,
                "Where the new dimension goes, counting the batch (1 = just after it).",
            ),
        ),
        inputs=_ports,
        infer=_stack_shape,
        emit=_stack_emit,
        calls=(Call(("torch.stack",), read=read_joined),),
        summary=lambda p: f"{p['num_inputs']} inputs, dim {p['dim']}",
        examples=(
            Example(((4,), (4,))),
            Example(((2, 3), (2, 3), (2, 3)), {"num_inputs": 3, "dim": -1}),
            Example(((2, 3), (2, 3)), {"dim": 2}),
        ),
    ),
]
