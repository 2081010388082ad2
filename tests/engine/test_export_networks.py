"""Networks the export, weights and import tests share (no tests here).

Each covers what its formats must carry: a plain MLP; a CNN with BatchNorm buffers;
a sequence model with token ids, PositionalEmbedding, TransformerEncoderLayer,
MultiheadAttention, a residual Add and an LSTM; a two-output network with Concat; and a network of nested blocks.
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


def with_blocks() -> Network:
    """A residual CNN of blocks: ``Residual`` (holding a nested ``ConvAct``) used
    twice, the second instance frozen."""
    from engine.analysis import analyze
    from engine.edits.blocks import plan_group

    network = graph(
        [
            ("image", "Input", {"shape": [4, 6, 6]}),
            ("conv", "Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
            ("act", "ReLU", {}),
            ("add", "Add", {}),
            ("conv_b", "Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
            ("act_b", "ReLU", {}),
            ("add_b", "Add", {}),
            ("pool", "AdaptiveAvgPool2d", {"output_size": 1}),
            ("flat", "Flatten", {}),
            ("fc", "Linear", {"out_features": 3}),
            ("output", "Output", {}),
        ],
        [
            "image->conv",
            "conv->act",
            "act->add.in1",
            "image->add.in2",
            "add->conv_b",
            "conv_b->act_b",
            "act_b->add_b.in1",
            "add->add_b.in2",
            "add_b->pool",
            "pool->flat",
            "flat->fc",
            "fc->output",
        ],
        name="blocks",
    )
    for ids, name in (
        (["conv", "act"], "ConvAct"),
        (["convact", "add"], "Residual"),
        (["conv_b", "act_b", "add_b"], "Second"),
    ):
        plan_group(network, ids, name, analyze(network)).apply(network)
    network.remove_node("second")
    network.add_node("Residual", node_id="second", trainable=False)
    network.connect("residual", "out", "second", "x")
    network.connect("second", "out", "pool", "in")
    return network


NETWORKS = {
    "mlp": mlp,
    "cnn": cnn,
    "sequence": sequence_model,
    "two_outputs": two_outputs,
    "blocks": with_blocks,
}


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
