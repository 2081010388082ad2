"""Activation functions: the non-linearities between layers."""

from engine.layers.rules import normalize_dim
from engine.layers.spec import Call, Example, LayerSpec, Param, arguments

_F = "torch.nn.functional."


def _same(params, inputs):
    return inputs[0]


def _along_dim(params, inputs):
    normalize_dim(params["dim"], len(inputs[0]) + 1)
    return inputs[0]


_EXAMPLES = (Example(((6,),)), Example(((2, 4, 4),)))


def _activation(name, help, params=(), summary=None, infer=_same, examples=_EXAMPLES, calls=()):
    kwargs_of = lambda p, i: (name, dict(p))  # noqa: E731 - the module takes exactly its params
    return LayerSpec(
        name=name,
        family="Activation",
        help=help,
        params=params,
        infer=infer,
        module=kwargs_of,
        summary=summary,
        examples=examples,
        calls=calls,
    )


def _softmax_calls(function):
    """``torch.softmax(x, dim)``, ``F.softmax(x, dim=1)`` and ``x.softmax(1)``."""
    return (Call((f"torch.{function}", _F + function), (function,), arguments(dim=(1, None))),)


_DIM = Param("dim", "int", 1, "Dimension to normalise over, counting the batch (1 = features).")

SPECS = [
    _activation(
        "ReLU",
        "max(0, x): keeps positive values, zeroes negative ones. The default choice "
        "between layers: cheap and trains well.",
        calls=(Call(("torch.relu", _F + "relu"), ("relu",)),),
    ),
    _activation(
        "LeakyReLU",
        "Like ReLU but lets a small slope through for negative inputs, so units never "
        "stop learning ('dead ReLU').",
        params=(Param("negative_slope", "float", 0.01, "Slope for negative inputs.", minimum=0.0),),
        summary=lambda p: f"slope {p['negative_slope']:g}",
        calls=(Call((_F + "leaky_relu",), read=arguments(negative_slope=(1, 0.01))),),
    ),
    _activation(
        "ELU",
        "Smooth ReLU variant whose negative side bends towards -alpha; its outputs "
        "average closer to zero, which can speed up learning.",
        params=(
            Param(
                "alpha", "float", 1.0, "Value it tends to for very negative inputs.", minimum=0.0
            ),
        ),
        calls=(Call((_F + "elu",), read=arguments(alpha=(1, 1.0))),),
    ),
    _activation(
        "GELU",
        "Smooth ReLU used in Transformers (BERT, GPT): weights each input by how likely "
        "it is to be positive.",
        params=(
            Param(
                "approximate",
                "choice",
                "none",
                "Exact or tanh approximation.",
                choices=("none", "tanh"),
            ),
        ),
        calls=(Call((_F + "gelu",), read=arguments(approximate=(None, "none"))),),
    ),
    _activation(
        "SiLU",
        "x * sigmoid(x), also called Swish: smooth and slightly non-monotonic; common in "
        "modern CNNs.",
        calls=(Call((_F + "silu",)),),
    ),
    _activation(
        "Sigmoid",
        "Squashes values into (0, 1). Use it for probabilities of independent yes/no "
        "outputs; between deep layers it makes gradients vanish.",
        calls=(Call(("torch.sigmoid", _F + "sigmoid"), ("sigmoid",)),),
    ),
    _activation(
        "Tanh",
        "Squashes values into (-1, 1), centred on zero. Classic in RNNs and in GAN "
        "generators whose images are scaled to [-1, 1].",
        calls=(Call(("torch.tanh", _F + "tanh"), ("tanh",)),),
    ),
    _activation(
        "Softmax",
        "Turns scores into probabilities that sum to 1 along dim. Leave it out before "
        "CrossEntropyLoss, which applies it itself.",
        params=(_DIM,),
        infer=_along_dim,
        summary=lambda p: f"dim {p['dim']}",
        examples=(*_EXAMPLES, Example(((3, 5),), {"dim": -1})),
        calls=_softmax_calls("softmax"),
    ),
    _activation(
        "LogSoftmax",
        "Log of Softmax, numerically stable. Pair it with NLLLoss.",
        params=(_DIM,),
        infer=_along_dim,
        summary=lambda p: f"dim {p['dim']}",
        examples=(*_EXAMPLES, Example(((3, 5),), {"dim": -1})),
        calls=_softmax_calls("log_softmax"),
    ),
]
