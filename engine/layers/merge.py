"""Merge layers: Add, Multiply and Concat join several wires into one.

Each has ``num_inputs`` numbered input ports (``in1`` ... ``inN``), whose order is the
order of the operands. Add and Multiply need inputs of one shape (a residual connection
is an Add), except that a size of 1 stretches to the other's (a squeeze-excite gate); Concat joins inputs along ``dim`` (torch's meaning: 1 = the first dimension
after the batch) and needs every other size to match. None holds a module: they are
emitted as ``a + b``, ``a * b`` and ``torch.cat([a, b], dim=1)``.
"""

import operator

from engine.errors import ShapeError
from engine.layers.rules import broadcast_shapes, fmt, normalize_dim
from engine.layers.spec import Call, Example, LayerSpec, NoMatch, Param, argument

_NUM_INPUTS = Param(
    "num_inputs",
    "int",
    2,
    "How many wires it joins (DenseNet joins up to 49).",
    minimum=2,
    maximum=64,
)


def _ports(params):
    return tuple(f"in{i}" for i in range(1, params["num_inputs"] + 1))


def _chain(op):
    def emit(graph, target, args, params, inputs):
        result = args[0]
        for arg in args[1:]:
            result = graph.call_function(op, (result, arg))
        return result

    return emit


def _concat_shape(params, inputs):
    first = inputs[0]
    index = normalize_dim(params["dim"], len(first) + 1)
    for number, shape in enumerate(inputs[1:], start=2):
        if len(shape) != len(first):
            raise ShapeError(
                f"needs inputs with the same number of dimensions, got {fmt(first)} on in1 "
                f"and {fmt(shape)} on in{number}"
            )
        others = [i for i in range(len(first)) if i != index - 1]
        if any(shape[i] != first[i] for i in others):
            raise ShapeError(
                f"joins along dim {params['dim']}, so all other sizes must match, got "
                f"{fmt(first)} on in1 and {fmt(shape)} on in{number}"
            )
    total = sum(shape[index - 1] for shape in inputs)
    return (*first[: index - 1], total, *first[index:])


def _concat_emit(graph, target, args, params, inputs):
    import torch

    return graph.call_function(torch.cat, (list(args),), {"dim": params["dim"]})


def _read_binary(args, kwargs):
    """``a + b``, ``torch.add(a, b)``; torch.add's alpha scales b, which Add does not."""
    alpha = argument(args, kwargs, 2, "alpha", 1)
    if alpha != 1:
        raise NoMatch(f"with alpha {alpha!r}")
    return {"num_inputs": 2}


def read_joined(args, kwargs):
    """``torch.cat([a, b, c], dim=1)``, ``torch.stack([a, b], dim=1)``."""
    tensors = argument(args, kwargs, 0, "tensors")
    most = int(_NUM_INPUTS.upper)
    if not isinstance(tensors, list | tuple) or not 2 <= len(tensors) <= most:
        raise NoMatch(f"of other than 2 to {most} tensors")
    return {"num_inputs": len(tensors), "dim": argument(args, kwargs, 1, "dim", 0)}


def _elementwise(name, op, help, functions):
    return LayerSpec(
        name=name,
        family="Merge",
        help=help,
        params=(_NUM_INPUTS,),
        inputs=_ports,
        infer=lambda p, i: broadcast_shapes(i, name),
        emit=_chain(op),
        calls=(Call(functions, read=_read_binary, chained=True),),
        summary=lambda p: f"{p['num_inputs']} inputs",
        examples=(
            Example(((4,), (4,))),
            Example(((2, 3, 3), (2, 3, 3), (2, 3, 3)), {"num_inputs": 3}),
            Example(((4, 3, 3), (4, 1, 1))),
            Example(((1, 5), (3, 1))),
        ),
    )


SPECS = [
    _elementwise(
        "Add",
        operator.add,
        "Adds its inputs value by value; they must have the same shape, except that a size "
        "of 1 stretches to the other's. Use it for residual (skip) connections: wire a "
        "block's input around it into an Add.",
        ("operator.add", "torch.add"),
    ),
    _elementwise(
        "Multiply",
        operator.mul,
        "Multiplies its inputs value by value; they must have the same shape, except that a "
        "size of 1 stretches to the other's. Use it for gating, where one branch decides "
        "how much of another passes: squeeze-excite multiplies a (C, H, W) map by a "
        "(C, 1, 1) gate.",
        ("operator.mul", "torch.mul"),
    ),
    LayerSpec(
        name="Concat",
        family="Merge",
        help=(
            "Joins its inputs side by side along dim (1 = features or channels), e.g. two "
            "(16, 8, 8) feature maps into (32, 8, 8). Use it to combine branches that see "
            "the data differently."
        ),
        params=(
            _NUM_INPUTS,
            Param(
                "dim",
                "int",
                1,
                "Dimension to join along, counting the batch (1 = features or channels).",
            ),
        ),
        inputs=_ports,
        infer=_concat_shape,
        emit=_concat_emit,
        calls=(Call(("torch.cat", "torch.concat", "torch.concatenate"), read=read_joined),),
        summary=lambda p: f"{p['num_inputs']} inputs, dim {p['dim']}",
        examples=(
            Example(((4,), (3,))),
            Example(((2, 3, 3), (5, 3, 3), (1, 3, 3)), {"num_inputs": 3}),
            Example(((2, 3), (2, 4)), {"dim": -1}),
        ),
    ),
]
