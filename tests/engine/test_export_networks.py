"""Networks the export, weights and import tests share (no tests here).

Each covers what its formats must carry: a plain MLP; a CNN with BatchNorm buffers;
a sequence model with token ids, PositionalEmbedding, TransformerEncoderLayer,
MultiheadAttention, a residual Add and an LSTM; and a two-output network with Concat.
"""

import torch

from engine.compile import input_specs
from engine.network import Network
from tests.engine.builders import graph, mlp


def cnn() -> Network:
    """(1, 8, 8) -> Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d -> Flatten -> Linear."""
    return graph(
        [
            ("image", "Input", {"shape": [1, 8, 8]}),
            ("conv", "Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
            ("bn", "BatchNorm2d", {}),
            ("act", "ReLU", {}),
            ("pool", "MaxPool2d", {"kernel_size": 2}),
            ("flat", "Flatten", {}),
            ("fc", "Linear", {"out_features": 3}),
            ("output", "Output", {}),
        ],
        ["image->conv", "conv->bn", "bn->act", "act->pool", "pool->flat", "flat->fc", "fc->output"],
        name="cnn",
    )


def sequence_model() -> Network:
    """Token ids -> Embedding -> PositionalEmbedding -> Transformer + attention -> LSTM."""
    return graph(
        [
            ("tokens", "Input", {"shape": [6], "dtype": "int64"}),
            ("emb", "Embedding", {"num_embeddings": 20, "embedding_dim": 8}),
            ("pos", "PositionalEmbedding", {"max_len": 16}),
            ("enc", "TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}),
            ("attn", "MultiheadAttention", {"num_heads": 2}),
            ("res", "Add", {}),
            ("lstm", "LSTM", {"hidden_size": 5}),
            ("fc", "Linear", {"out_features": 3}),
            ("output", "Output", {}),
        ],
        [
            "tokens->emb",
            "emb->pos",
            "pos->enc",
            "enc->attn",
            "attn->res.in1",
            "enc->res.in2",
            "res->lstm",
            "lstm->fc",
            "fc->output",
        ],
        name="sequence",
    )


def two_outputs() -> Network:
    """x (8,) -> two Linear branches -> Concat (out_cat) and Add (out_sum)."""
    return graph(
        [
            ("x", "Input", {"shape": [8]}),
            ("left", "Linear", {"out_features": 4}),
            ("right", "Linear", {"out_features": 4}),
            ("cat", "Concat", {}),
            ("total", "Add", {}),
            ("out_cat", "Output", {}),
            ("out_sum", "Output", {}),
        ],
        [
            "x->left",
            "x->right",
            "left->cat.in1",
            "right->cat.in2",
            "left->total.in1",
            "right->total.in2",
            "cat->out_cat",
            "total->out_sum",
        ],
        name="branches",
    )


NETWORKS = {"mlp": mlp, "cnn": cnn, "sequence": sequence_model, "two_outputs": two_outputs}


def sample_inputs(network: Network, batch: int, seed: int = 0) -> tuple:
    """Random inputs for ``network`` with a batch dimension (token ids below 20)."""
    generator = torch.Generator().manual_seed(seed)
    values = []
    for _, shape, dtype in input_specs(network):
        if dtype == "long":
            values.append(torch.randint(0, 20, (batch, *shape), generator=generator))
        else:
            values.append(torch.randn((batch, *shape), generator=generator))
    return tuple(values)


def as_tuple(value) -> tuple:
    """A forward's result as a tuple of tensors."""
    return tuple(value) if isinstance(value, tuple | list) else (value,)
