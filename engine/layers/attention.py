"""Embeddings and attention: Embedding, PositionalEmbedding, MultiheadAttention,
TransformerEncoderLayer.

An Embedding turns token ids (int64) into learned vectors; attention lets every step of
a sequence (steps, embed_dim) look at every other step. Attention alone ignores order,
so a PositionalEmbedding adds a learned vector per position. Everything runs with
``batch_first=True``; ``embed_dim`` / ``d_model`` are inferred from the input.
"""

import operator

from engine.errors import ParamError, ShapeError
from engine.layers.rules import expect_rank
from engine.layers.spec import Example, LayerSpec, Param

_DROPOUT = Param(
    "dropout",
    "float",
    0.0,
    "Dropout on the attention weights during training.",
    minimum=0.0,
    maximum=1.0,
)


def _expect_sequence(shape, name):
    hint = "add an Embedding before it for token ids, or a Reshape to (steps, features)"
    expect_rank(shape, (2,), f"a sequence (steps, {name})", hint)


def _embedding_shape(params, inputs):
    count, index = params["num_embeddings"], params["padding_idx"]
    if index is not None and not -count <= index < count:
        raise ParamError(
            f"has padding_idx {index}, but there are only {count} embeddings (ids 0 to {count - 1})"
        )
    return (*inputs[0], params["embedding_dim"])


def _positional_shape(params, inputs):
    (shape,) = inputs
    _expect_sequence(shape, "d_model")
    if shape[0] > params["max_len"]:
        raise ShapeError(
            f"gets {shape[0]} steps but has max_len {params['max_len']}; raise max_len to at least {shape[0]}"
        )
    return shape


def _positional_emit(graph, target, args, params, inputs):
    """``x + self.pos(torch.arange(x.size(1), device=x.device))``: plain torch only."""
    import torch

    (x,) = args
    steps = graph.call_method("size", (x, 1))
    device = graph.call_function(getattr, (x, "device"))
    positions = graph.call_function(torch.arange, (steps,), {"device": device})
    return graph.call_function(operator.add, (x, graph.call_module(target, (positions,))))


def _activation_name(function) -> str:
    """A TransformerEncoderLayer's activation (a function or a module) as its choice."""
    name = getattr(function, "__name__", type(function).__name__).lower()
    return "gelu" if "gelu" in name else "relu" if "relu" in name else name


def _read_encoder(module):
    return {
        "nhead": module.self_attn.num_heads,
        "dim_feedforward": module.linear1.out_features,
        "dropout": module.dropout.p,
        "activation": _activation_name(module.activation),
    }


def _check_heads(embed_dim, heads, name):
    if embed_dim % heads:
        raise ShapeError(
            f"splits {embed_dim} features into {heads} heads, but {embed_dim} is not divisible by {heads}; "
            f"choose a {name} that divides {embed_dim}, or change the width before it"
        )


def _attention_shape(params, inputs):
    (shape,) = inputs
    _expect_sequence(shape, "embed_dim")
    _check_heads(shape[1], params["num_heads"], "num_heads")
    return shape


def _attention_count(params, inputs):
    width = inputs[0][1]
    return 4 * width * width + (4 * width if params["bias"] else 0)


def _attention_macs(steps, width):
    """Projections of queries, keys, values and output, plus scores and mixing."""
    return 4 * steps * width * width + 2 * steps * steps * width


def _attention_emit(graph, target, args, params, inputs):
    (x,) = args
    outputs = graph.call_module(target, (x, x, x), {"need_weights": False})
    return graph.call_function(operator.getitem, (outputs, 0))


def _encoder_shape(params, inputs):
    (shape,) = inputs
    _expect_sequence(shape, "d_model")
    _check_heads(shape[1], params["nhead"], "nhead")
    return shape


def _encoder_count(params, inputs):
    width, hidden = inputs[0][1], params["dim_feedforward"]
    attention = 4 * width * width + 4 * width
    feedforward = 2 * width * hidden + hidden + width
    return attention + feedforward + 4 * width


def _encoder_macs(params, inputs, output):
    steps, width = inputs[0]
    return _attention_macs(steps, width) + 2 * steps * width * params["dim_feedforward"]


SPECS = [
    LayerSpec(
        name="Embedding",
        family="Attention",
        help=(
            "Looks up a learned vector for each token id: (steps,) int64 ids become "
            "(steps, embedding_dim) numbers. The first layer of any text model; set the "
            "Input's dtype to int64."
        ),
        params=(
            Param(
                "num_embeddings",
                "int",
                1000,
                "How many different ids (vocabulary size).",
                minimum=1,
            ),
            Param(
                "embedding_dim", "int", 64, "Length of the vector learned for each id.", minimum=1
            ),
            Param(
                "padding_idx",
                "int",
                None,
                "An id (such as padding) whose vector stays zero and is not learned.",
                optional=True,
            ),
        ),
        infer=_embedding_shape,
        count_params=lambda p, i: p["num_embeddings"] * p["embedding_dim"],
        module=lambda p, i: ("Embedding", dict(p)),
        summary=lambda p: f"{p['num_embeddings']} x {p['embedding_dim']}",
        input_dtype="long",
        output_dtype="float",
        examples=(
            Example(((6,),), {"num_embeddings": 10, "embedding_dim": 4}),
            Example(((3, 2),), {"num_embeddings": 5, "embedding_dim": 3, "padding_idx": 0}),
        ),
    ),
    LayerSpec(
        name="PositionalEmbedding",
        family="Attention",
        help=(
            "Adds a learned vector to each position of a sequence (steps, d_model), so that "
            "attention, which ignores order, can tell the first step from the last. Put it "
            "right after the Embedding."
        ),
        params=(Param("max_len", "int", 512, "Longest sequence it can take.", minimum=1),),
        infer=_positional_shape,
        count_params=lambda p, i: p["max_len"] * i[0][1],
        module=lambda p, i: (
            "Embedding",
            {"num_embeddings": p["max_len"], "embedding_dim": i[0][1]},
        ),
        emit=_positional_emit,
        modules=(),  # an Embedding fed positions; import folds that pattern
        read=lambda m: {"max_len": m.num_embeddings},
        summary=lambda p: f"max_len {p['max_len']}",
        examples=(Example(((5, 4),), {"max_len": 8}), Example(((6, 3),), {"max_len": 6})),
    ),
    LayerSpec(
        name="MultiheadAttention",
        family="Attention",
        help=(
            "Self-attention: each step of a sequence (steps, embed_dim) builds its output "
            "from the steps most relevant to it, with num_heads attention patterns side by "
            "side. The heart of Transformers."
        ),
        params=(
            Param(
                "num_heads", "int", 4, "Parallel attention heads; must divide embed_dim.", minimum=1
            ),
            _DROPOUT,
            Param("bias", "bool", True, "Learn offsets in the projections."),
        ),
        infer=_attention_shape,
        count_params=_attention_count,
        macs=lambda p, i, o: _attention_macs(*i[0]),
        module=lambda p, i: (
            "MultiheadAttention",
            {"embed_dim": i[0][1], **p, "batch_first": True},
        ),
        emit=_attention_emit,
        read=lambda m: {"bias": m.in_proj_bias is not None},
        summary=lambda p: f"{p['num_heads']} heads",
        examples=(
            Example(((5, 8),), {"num_heads": 2}),
            Example(((3, 6),), {"num_heads": 3, "bias": False, "dropout": 0.1}),
        ),
    ),
    LayerSpec(
        name="TransformerEncoderLayer",
        family="Attention",
        help=(
            "One Transformer block on a sequence (steps, d_model): self-attention then a "
            "small feed-forward network, each with a residual connection and LayerNorm. "
            "Stack a few for a Transformer encoder."
        ),
        params=(
            Param("nhead", "int", 4, "Parallel attention heads; must divide d_model.", minimum=1),
            Param(
                "dim_feedforward",
                "int",
                2048,
                "Width of the feed-forward network inside.",
                minimum=1,
            ),
            Param(
                "dropout",
                "float",
                0.1,
                "Dropout inside the block during training.",
                minimum=0.0,
                maximum=1.0,
            ),
            Param(
                "activation",
                "choice",
                "relu",
                "Activation of the feed-forward network.",
                choices=("relu", "gelu"),
            ),
            Param(
                "norm_first",
                "bool",
                False,
                "Normalize before attention (pre-LN), which trains deep stacks more stably.",
            ),
        ),
        infer=_encoder_shape,
        count_params=_encoder_count,
        macs=_encoder_macs,
        module=lambda p, i: (
            "TransformerEncoderLayer",
            {"d_model": i[0][1], **p, "batch_first": True},
        ),
        summary=lambda p: f"{p['nhead']} heads, ff {p['dim_feedforward']}",
        read=_read_encoder,
        examples=(
            Example(((5, 8),), {"nhead": 2, "dim_feedforward": 16}),
            Example(
                ((4, 6),),
                {"nhead": 3, "dim_feedforward": 10, "activation": "gelu", "norm_first": True},
            ),
        ),
    ),
]
