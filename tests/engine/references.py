"""Reference architectures: Deepwire networks and the same networks written by hand.

Used by tests/engine/test_compile.py (equality) and benchmarks/bench_compile.py (speed).
"""

import torch
from torch import nn

from tests.engine.builders import chain, graph, mlp


class HandMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 32), nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class HandLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.relu(self.conv2(x)).flatten(1)
        return self.fc2(torch.relu(self.fc1(x)))


def lenet():
    return chain(
        ("Conv2d", {"out_channels": 6, "kernel_size": 3, "padding": 1}),
        "ReLU",
        ("MaxPool2d", {"kernel_size": 2}),
        ("Conv2d", {"out_channels": 16, "kernel_size": 3}),
        "ReLU",
        "Flatten",
        ("Linear", {"out_features": 32}),
        "ReLU",
        ("Linear", {"out_features": 10}),
        input_shape=(1, 8, 8),
    )


class HandResidual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, padding=1)
        self.conv_a = nn.Conv2d(8, 8, 3, padding=1)
        self.bn_a = nn.BatchNorm2d(8)
        self.conv_b = nn.Conv2d(8, 8, 3, padding=1)
        self.bn_b = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        stem = torch.relu(self.stem(x))
        y = torch.relu(self.bn_a(self.conv_a(stem)))
        y = self.bn_b(self.conv_b(y))
        y = torch.relu(y + stem)
        y = nn.functional.adaptive_avg_pool2d(y, 1).flatten(1)
        return self.head(y)


def residual():
    conv = {"out_channels": 8, "kernel_size": 3, "padding": 1}
    return graph(
        [
            ("input", "Input", {"shape": [1, 8, 8]}),
            ("stem", "Conv2d", conv),
            ("stem_act", "ReLU", {}),
            ("conv_a", "Conv2d", conv),
            ("bn_a", "BatchNorm2d", {}),
            ("act_a", "ReLU", {}),
            ("conv_b", "Conv2d", conv),
            ("bn_b", "BatchNorm2d", {}),
            ("skip", "Add", {}),
            ("act", "ReLU", {}),
            ("pool", "AdaptiveAvgPool2d", {"output_size": 1}),
            ("flat", "Flatten", {}),
            ("head", "Linear", {"out_features": 10}),
            ("output", "Output", {}),
        ],
        [
            "input->stem",
            "stem->stem_act",
            "stem_act->conv_a",
            "conv_a->bn_a",
            "bn_a->act_a",
            "act_a->conv_b",
            "conv_b->bn_b",
            "bn_b->skip.in1",
            "stem_act->skip.in2",
            "skip->act",
            "act->pool",
            "pool->flat",
            "flat->head",
            "head->output",
        ],
    )


class HandLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 16, num_layers=2, batch_first=True)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1])


def lstm_classifier():
    return chain(
        ("LSTM", {"hidden_size": 16, "num_layers": 2, "output": "last"}),
        ("Linear", {"out_features": 4}),
        input_shape=(12, 3),
    )


class HandTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.pos = nn.Embedding(20, 16)
        self.encoder = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
        self.pool = nn.Flatten()
        self.fc = nn.Linear(16 * 10, 3)

    def forward(self, tokens):
        x = self.embed(tokens)
        x = x + self.pos(torch.arange(x.size(1)))
        return self.fc(self.pool(self.encoder(x)))


def transformer_classifier():
    return chain(
        ("Embedding", {"num_embeddings": 50, "embedding_dim": 16}),
        ("PositionalEmbedding", {"max_len": 20}),
        ("TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 32, "dropout": 0.0}),
        "Flatten",
        ("Linear", {"out_features": 3}),
        input_shape=(10,),
        dtype="int64",
    )


CASES = {
    "mlp": (mlp, HandMLP, lambda: torch.randn(5, 64)),
    "lenet": (lenet, HandLeNet, lambda: torch.randn(5, 1, 8, 8)),
    "residual": (residual, HandResidual, lambda: torch.randn(5, 1, 8, 8)),
    "lstm": (lstm_classifier, HandLSTM, lambda: torch.randn(5, 12, 3)),
    "transformer": (transformer_classifier, HandTransformer, lambda: torch.randint(0, 50, (5, 10))),
}


def copy_weights(source: nn.Module, target: nn.Module) -> None:
    """Copy parameters and buffers in definition order, checking every shape."""
    source_state, target_state = source.state_dict(), target.state_dict()
    assert len(source_state) == len(target_state)
    for (key, value), (other_key, other) in zip(source_state.items(), target_state.items()):
        assert value.shape == other.shape, (key, other_key)
        other.copy_(value)
