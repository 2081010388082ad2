"""Dense layers and shape utilities: Linear, Flatten, Identity."""

from engine.layers.rules import expect_rank, numel
from engine.layers.spec import Call, Example, LayerSpec, Param, arguments

LINEAR_INPUT = "a flat input (features,) or a sequence (steps, features)"


def _linear_shape(params, inputs):
    """Linear maps the last dimension, at any rank (ConvNeXt's channels-last maps); the
    analysis refuses a channels-first feature map (``engine.analysis``)."""
    (shape,) = inputs
    expect_rank(shape, tuple(range(1, 9)), LINEAR_INPUT, "add a Flatten before it")
    return (*shape[:-1], params["out_features"])


def _linear_count(params, inputs):
    in_features = inputs[0][-1]
    return in_features * params["out_features"] + (params["out_features"] if params["bias"] else 0)


def _linear_macs(params, inputs, output):
    return numel(output) * inputs[0][-1]


def _linear_module(params, inputs):
    return "Linear", {
        "in_features": inputs[0][-1],
        "out_features": params["out_features"],
        "bias": params["bias"],
    }


def _flatten_shape(params, inputs):
    from engine.layers.rules import normalize_dim

    (shape,) = inputs
    rank = len(shape) + 1
    start = normalize_dim(params["start_dim"], rank, "start_dim")
    end = normalize_dim(params["end_dim"], rank, "end_dim")
    if end < start:
        from engine.errors import ShapeError

        raise ShapeError(
            f"has end_dim before start_dim ({params['end_dim']} < {params['start_dim']})"
        )
    full = (0, *shape)
    return (*full[1:start], numel(full[start : end + 1]), *full[end + 1 :])


SPECS = [
    LayerSpec(
        name="Linear",
        family="Dense",
        help=(
            "A fully connected layer: every output is a weighted sum of all inputs plus a "
            "bias. The workhorse of classifiers and MLPs; on a sequence it acts on each step."
        ),
        params=(
            Param("out_features", "int", 32, "How many numbers this layer outputs.", minimum=1),
            Param("bias", "bool", True, "Learn an offset added to each output."),
        ),
        infer=_linear_shape,
        count_params=_linear_count,
        macs=_linear_macs,
        module=_linear_module,
        summary=lambda p: f"out_features {p['out_features']}",
        examples=(
            Example(((20,),), {"out_features": 7}),
            Example(((5, 6),), {"out_features": 3, "bias": False}),
        ),
    ),
    LayerSpec(
        name="Flatten",
        family="Dense",
        help=(
            "Unrolls an image or feature map into one long vector, so that Linear layers "
            "can follow convolutions. Learns nothing."
        ),
        params=(
            Param("start_dim", "int", 1, "First dimension to flatten (1 = just after the batch)."),
            Param("end_dim", "int", -1, "Last dimension to flatten (-1 = the last one)."),
        ),
        infer=_flatten_shape,
        module=lambda p, i: ("Flatten", {"start_dim": p["start_dim"], "end_dim": p["end_dim"]}),
        calls=(
            Call(("torch.flatten",), ("flatten",), arguments(start_dim=(1, 0), end_dim=(2, -1))),
        ),
        examples=(
            Example(((3, 4, 5),)),
            Example(((3, 4, 5),), {"start_dim": 2}),
            Example(((3, 4, 5),), {"start_dim": 1, "end_dim": 2}),
        ),
    ),
    LayerSpec(
        name="Identity",
        family="Dense",
        help="Passes its input through unchanged. Useful as a placeholder or a junction.",
        infer=lambda p, i: i[0],
        module=lambda p, i: ("Identity", {}),
        input_dtype="any",
        examples=(Example(((4,),)), Example(((2, 3, 3),))),
    ),
]
