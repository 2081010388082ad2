"""Learned tensors outside the usual layers: Scale and Parameter.

Scale multiplies by one learned number per channel (the "layer scale" of ConvNeXt and
CaiT); Parameter is a learned tensor of its own, such as a ViT's class token or position
embedding. torch.nn has no class for either, so they are Deepwire's own modules
(``engine.layers.modules``), written into the generated code.

A Parameter has one input, ``batch``, whose values it ignores: it outputs one copy of
its tensor per sample of that input, so that it can be joined (Concat) or added (Add)
to the samples it belongs to. Any wire of the same batch will do, usually the
network's Input or the tokens it is joined to.
"""

from math import prod

from engine.layers.rules import fmt, normalize_dim, numel
from engine.layers.spec import Example, LayerSpec, Param


def _scale_features(params, inputs):
    (shape,) = inputs
    return shape[normalize_dim(params["dim"], len(shape) + 1) - 1]


def _scale_shape(params, inputs):
    _scale_features(params, inputs)
    return inputs[0]


def _scale_module(params, inputs):
    return "Scale", {
        "num_features": _scale_features(params, inputs),
        "dim": params["dim"],
        "init": params["init"],
    }


def _parameter_module(params, inputs):
    return "LearnedTensor", {
        "shape": tuple(params["shape"]),
        "init": params["init"],
        "std": params["std"],
    }


def _parameter_summary(params):
    init = params["init"]
    if init in ("normal", "trunc_normal"):
        init = f"{init} {params['std']:g}"
    return f"{fmt(tuple(params['shape']))}, {init}"


SPECS = [
    LayerSpec(
        name="Scale",
        family="Learnable",
        help=(
            "Multiplies each channel by a learned number, starting at init: the layer scale "
            "of ConvNeXt and CaiT, where init 1e-6 lets a residual branch start almost "
            "switched off and grow in as it learns."
        ),
        params=(
            Param(
                "dim",
                "int",
                1,
                "Dimension of the channels, counting the batch (1 = channels of an image, "
                "-1 = features of a sequence).",
            ),
            Param("init", "float", 1.0, "The value every multiplier starts at."),
        ),
        infer=_scale_shape,
        count_params=lambda p, i: _scale_features(p, i),
        macs=lambda p, i, o: numel(o),
        module=_scale_module,
        summary=lambda p: f"dim {p['dim']}, init {p['init']:g}",
        examples=(
            Example(((4, 3, 3),)),
            Example(((5, 6),), {"dim": -1, "init": 1e-6}),
            Example(((7,),)),
        ),
    ),
    LayerSpec(
        name="Parameter",
        family="Learnable",
        help=(
            "A learned tensor of the given shape, such as a ViT's class token (1, 768) or "
            "its position embedding (197, 768). Wire anything of the batch into it: it "
            "outputs one copy of its tensor per sample, ready for a Concat or an Add."
        ),
        params=(
            Param(
                "shape",
                "shape",
                [1, 64],
                "Shape of the tensor, without the batch.",
                minimum=1,
            ),
            Param(
                "init",
                "choice",
                "normal",
                "How its values start: random normal (or truncated at 2), zeros or ones.",
                choices=("normal", "trunc_normal", "zeros", "ones"),
            ),
            Param(
                "std",
                "float",
                0.02,
                "Standard deviation of the random start (normal, trunc_normal).",
                minimum=0.0,
            ),
        ),
        inputs=("batch",),
        infer=lambda p, i: tuple(p["shape"]),
        count_params=lambda p, i: prod(p["shape"]),
        module=_parameter_module,
        modules=("LearnedTensor",),
        read=lambda m: {"shape": list(m.weight.shape[1:])},
        summary=_parameter_summary,
        input_dtype="any",
        output_dtype="float",
        examples=(
            Example(((5, 4),), {"shape": [1, 4]}),
            Example(((3, 8, 8),), {"shape": [6, 4], "init": "zeros"}),
            Example(((6,),), {"shape": [2, 3, 3], "init": "trunc_normal", "std": 1.0}),
        ),
    ),
]
