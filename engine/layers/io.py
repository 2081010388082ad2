"""The boundaries of a network: Input and Output."""

from engine.errors import ShapeError
from engine.layers.rules import fmt
from engine.layers.spec import LayerSpec, Param


def _input_shape(params, inputs):
    return tuple(params["shape"])


def _describe_input(params):
    suffix = "" if params["dtype"] == "float32" else f" {params['dtype']}"
    return fmt(tuple(params["shape"])) + suffix


def _check_not_empty(params, inputs):
    if not inputs:
        raise ShapeError("Output needs a wire")
    return inputs[0]


SPECS = [
    LayerSpec(
        name="Input",
        family="Input / Output",
        role="input",
        help=(
            "Where samples enter the network. Set its shape to the shape of one sample, "
            "without the batch: (1, 8, 8) for an 8x8 grey image, (4,) for 4 features, "
            "(20,) int64 for a sequence of 20 token ids."
        ),
        params=(
            Param("shape", "shape", [64], "Shape of one sample, without the batch.", minimum=1),
            Param(
                "dtype",
                "choice",
                "float32",
                "float32 for measurements and pixels, int64 for token or class ids.",
                choices=("float32", "int64"),
            ),
        ),
        inputs=(),
        outputs=("out",),
        infer=_input_shape,
        output_dtype=lambda params: "long" if params["dtype"] == "int64" else "float",
        summary=_describe_input,
    ),
    LayerSpec(
        name="Output",
        family="Input / Output",
        role="output",
        help=(
            "What the network returns. The loss compares it with the target during "
            "training. A network may have several outputs, named by their ids."
        ),
        inputs=("in",),
        outputs=(),
        infer=_check_not_empty,
        input_dtype="any",
    ),
]
