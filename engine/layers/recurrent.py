"""Recurrent layers: RNN, LSTM and GRU, read along a sequence (steps, features).

They run with ``batch_first=True``; ``input_size`` is inferred. torch returns a tuple
(all steps, final states): a node keeps the first item, and its ``output`` setting
chooses between the whole sequence (steps, hidden*directions), to stack more recurrent
layers or label each step, and the last step (hidden*directions,), which a classifier
needs. The graph code is ``lstm[0]`` and, for the last step, ``[:, -1]``.
"""

import operator

from engine.layers.rules import expect_rank
from engine.layers.spec import Example, LayerSpec, Param

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}

_LAST_HELP = (
    " Its output is the whole sequence, or only the last step for a classifier; when "
    "bidirectional, the last step joins the forward pass's final state with the backward "
    "pass's state after reading just that step."
)


def _expect_sequence(shape):
    if len(shape) == 1:
        hint = f"add a Reshape before it, e.g. to ({shape[0]}, 1) for one value per step"
    elif len(shape) == 3:
        hint = (
            f"add a Reshape before it, e.g. to ({shape[0] * shape[1]}, {shape[2]}) so that "
            "each row is a step"
        )
    else:
        hint = "add a Reshape before it"
    expect_rank(shape, (2,), "a sequence (steps, features)", hint)


def _recurrent_shape(params, inputs):
    (shape,) = inputs
    _expect_sequence(shape)
    width = params["hidden_size"] * (2 if params["bidirectional"] else 1)
    return (width,) if params["output"] == "last" else (shape[0], width)


def _layer_inputs(params, inputs):
    """The input width of each stacked layer."""
    directions = 2 if params["bidirectional"] else 1
    first = inputs[0][-1]
    return [first] + [params["hidden_size"] * directions] * (params["num_layers"] - 1)


def _count(name):
    def count(params, inputs):
        hidden = params["hidden_size"]
        directions = 2 if params["bidirectional"] else 1
        bias = 2 * hidden if params["bias"] else 0
        per_layer = (
            GATES[name] * (width * hidden + hidden * hidden + bias)
            for width in _layer_inputs(params, inputs)
        )
        return directions * sum(per_layer)

    return count


def _macs(name):
    def macs(params, inputs, output):
        hidden = params["hidden_size"]
        directions = 2 if params["bidirectional"] else 1
        steps = inputs[0][0]
        per_step = sum(
            GATES[name] * hidden * (width + hidden) for width in _layer_inputs(params, inputs)
        )
        return steps * directions * per_step

    return macs


def _module(name):
    def module(params, inputs):
        kwargs = {k: v for k, v in params.items() if k != "output"}
        if params["num_layers"] == 1:
            kwargs["dropout"] = 0.0  # torch ignores it there, and warns
        return name, {"input_size": inputs[0][-1], **kwargs, "batch_first": True}

    return module


def _emit(graph, target, args, params, inputs):
    outputs = graph.call_module(target, tuple(args))
    sequence = graph.call_function(operator.getitem, (outputs, 0))
    if params["output"] == "sequence":
        return sequence
    return graph.call_function(operator.getitem, (sequence, (slice(None), -1)))


def _params(name):
    params = [
        Param("hidden_size", "int", 64, "Size of the memory carried from step to step.", minimum=1),
        Param(
            "num_layers", "int", 1, "Recurrent layers stacked on each other.", minimum=1, maximum=16
        ),
    ]
    if name == "RNN":
        params.append(
            Param(
                "nonlinearity",
                "choice",
                "tanh",
                "Activation applied at each step.",
                choices=("tanh", "relu"),
            )
        )
    params += [
        Param("bias", "bool", True, "Learn offsets in each gate."),
        Param(
            "dropout",
            "float",
            0.0,
            "Dropout between stacked layers (needs num_layers of 2 or more).",
            minimum=0.0,
            maximum=1.0,
        ),
        Param(
            "bidirectional",
            "bool",
            False,
            "Also read the sequence backwards; doubles the output size.",
        ),
        Param(
            "output",
            "choice",
            "last",
            "last: only the final step (for classifiers); sequence: every step.",
            choices=("last", "sequence"),
        ),
    ]
    return tuple(params)


def _summary(params):
    width = params["hidden_size"]
    extra = ", bidirectional" if params["bidirectional"] else ""
    return f"{width}, {params['output']}{extra}"


def _spec(name, help, examples):
    return LayerSpec(
        name=name,
        family="Recurrent",
        help=help + _LAST_HELP,
        params=_params(name),
        infer=_recurrent_shape,
        count_params=_count(name),
        macs=_macs(name),
        module=_module(name),
        emit=_emit,
        summary=_summary,
        examples=examples,
    )


_EXAMPLES = (
    Example(((7, 3),), {"hidden_size": 5}),
    Example(((4, 6),), {"hidden_size": 3, "output": "sequence", "bidirectional": True}),
    Example(((5, 2),), {"hidden_size": 4, "num_layers": 2, "bidirectional": True, "bias": False}),
)

SPECS = [
    _spec(
        "RNN",
        "The simplest recurrent layer: reads a sequence (steps, features) one step at a "
        "time, mixing each step into a memory. It forgets over long sequences; prefer "
        "LSTM or GRU there.",
        (
            *_EXAMPLES,
            Example(
                ((3, 2),),
                {"hidden_size": 4, "nonlinearity": "relu", "num_layers": 2, "dropout": 0.2},
            ),
        ),
    ),
    _spec(
        "LSTM",
        "Reads a sequence (steps, features) step by step with gates that decide what to "
        "remember and forget, so it keeps information over long sequences. The classic "
        "choice for text and time series.",
        _EXAMPLES,
    ),
    _spec(
        "GRU",
        "A lighter LSTM with two gates instead of three: reads a sequence (steps, "
        "features) with a memory that keeps long-range information, using fewer weights.",
        _EXAMPLES,
    ),
]
