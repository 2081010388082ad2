"""Shape utilities that move values around without learning anything: Reshape, Unflatten.

Both keep the number of values of a sample and accept one ``-1`` meaning "whatever is
left". Reshape has no torch.nn module: it is emitted as ``x.reshape(-1, ...)``, the
leading ``-1`` keeping the batch.
"""

from engine.layers.rules import fmt, normalize_dim, numel, resolve_sizes
from engine.layers.spec import Call, Example, LayerSpec, NoMatch, Param


def _reshape_shape(params, inputs):
    (shape,) = inputs
    return resolve_sizes(tuple(params["shape"]), numel(shape), "the shape", shape)


def _reshape_emit(graph, target, args, params, inputs):
    sizes = _reshape_shape(params, inputs)
    return graph.call_method("reshape", (args[0], -1, *sizes))


def _read_reshape(args, kwargs):
    """``x.reshape(-1, 4, 6)``, ``x.view((-1, 24))``: the sizes after the batch's -1."""
    sizes = list(args[1:])
    if len(sizes) == 1 and isinstance(sizes[0], list | tuple):
        sizes = list(sizes[0])
    if len(sizes) < 2 or sizes[0] != -1 or not all(type(s) is int for s in sizes) or kwargs:
        raise NoMatch("not of the form x.reshape(-1, ...)")
    return {"shape": sizes[1:]}


def _unflatten_sizes(params, inputs):
    (shape,) = inputs
    index = normalize_dim(params["dim"], len(shape) + 1)
    size = shape[index - 1]
    target = tuple(params["unflattened_size"])
    sizes = resolve_sizes(target, size, "unflattened_size", (size,))
    return index, sizes


def _unflatten_shape(params, inputs):
    index, sizes = _unflatten_sizes(params, inputs)
    shape = inputs[0]
    return (*shape[: index - 1], *sizes, *shape[index:])


def _unflatten_module(params, inputs):
    _, sizes = _unflatten_sizes(params, inputs)
    return "Unflatten", {"dim": params["dim"], "unflattened_size": sizes}


SPECS = [
    LayerSpec(
        name="Reshape",
        family="Dense",
        help=(
            "Rearranges the values of each sample into a new shape, without changing them: "
            "for example a flat (64,) vector into a (1, 8, 8) image before a Conv2d. One "
            "size may be -1, meaning whatever is left."
        ),
        params=(
            Param(
                "shape",
                "shape",
                [1, 8, 8],
                "The new shape of one sample, without the batch; -1 fills in one size.",
                minimum=-1,
            ),
        ),
        infer=_reshape_shape,
        emit=_reshape_emit,
        calls=(Call(methods=("reshape", "view"), read=_read_reshape),),
        summary=lambda p: fmt(tuple(p["shape"])),
        input_dtype="any",
        examples=(
            Example(((64,),)),
            Example(((2, 3, 4),), {"shape": [4, -1]}),
            Example(((12,),), {"shape": [3, 4]}),
        ),
    ),
    LayerSpec(
        name="Unflatten",
        family="Dense",
        help=(
            "Splits one dimension into several, the reverse of Flatten: (64,) with "
            "unflattened_size (1, 8, 8) becomes an 8x8 image. One size may be -1."
        ),
        params=(
            Param(
                "dim",
                "int",
                1,
                "Dimension to split, counting the batch (1 = the first one after it).",
            ),
            Param(
                "unflattened_size",
                "shape",
                [1, 8, 8],
                "Sizes it is split into; their product must equal its size.",
                minimum=-1,
            ),
        ),
        infer=_unflatten_shape,
        module=_unflatten_module,
        summary=lambda p: f"dim {p['dim']} -> {fmt(tuple(p['unflattened_size']))}",
        input_dtype="any",
        examples=(
            Example(((64,),)),
            Example(((3, 12),), {"dim": -1, "unflattened_size": [-1, 4]}),
        ),
    ),
]
