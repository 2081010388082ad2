"""Importing models built the way timm builds them: subclasses of torch.nn layers and
in-place activations, written here by hand (the suite does not depend on timm)."""

import textwrap

import pytest
import torch

from engine.compile import compile_network
from engine.importer import ImportModelError, import_model
from engine.weights import load_weights

TIMM_LIKE = textwrap.dedent(
    """
    import torch
    import torch.nn.functional as F
    from torch import nn


    class Linear(nn.Linear):
        # timm.layers.Linear: the same computation, written with F.linear
        def forward(self, input):
            return F.linear(input, self.weight, self.bias)


    class BatchNormAct2d(nn.BatchNorm2d):
        # timm.layers.BatchNormAct2d: batch norm, then drop and act, in one module
        def __init__(self, num_features, act_layer=nn.ReLU, drop=0.0, apply_act=True):
            super().__init__(num_features)
            self.drop = nn.Dropout(drop) if drop else nn.Identity()
            self.act = act_layer(inplace=True) if apply_act else nn.Identity()

        def forward(self, x):
            assert x.ndim == 4, f"expected 4D input (got {x.ndim}D input)"
            training = self.training or not self.track_running_stats
            x = F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias,
                training, self.momentum, self.eps,
            )
            return self.act(self.drop(x))


    class StemConv(nn.Conv2d):
        # a subclass that only adds a note
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.note = "stem"


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = StemConv(3, 8, 3, padding=1, bias=False)
            self.bn1 = BatchNormAct2d(8)
            self.conv = nn.Conv2d(8, 8, 3, padding=1, bias=False)
            self.bn2 = BatchNormAct2d(8, act_layer=nn.SiLU, drop=0.1)
            self.bn3 = BatchNormAct2d(8, apply_act=False)
            self.relu = nn.ReLU(inplace=True)
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.flat = nn.Flatten()
            self.fc = Linear(8, 4)

        def forward(self, x):
            x = self.bn1(self.stem(x))
            x = self.relu(self.bn3(self.bn2(self.conv(x))) + x)
            return self.fc(self.flat(self.pool(x)))
    """
)

LAYER_NORM_2D = textwrap.dedent(
    """
    import torch.nn.functional as F
    from torch import nn


    class LayerNorm2d(nn.LayerNorm):
        # not timm's LayerNorm2d: the permutes do not undo each other
        def forward(self, x):
            x = x.permute(0, 2, 3, 1)
            x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
            return x.permute(0, 3, 2, 1)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.norm = LayerNorm2d(4)

        def forward(self, x):
            return self.norm(self.conv(x))
    """
)


def _model(tmp_path, source, name="timm_like"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    namespace = {}
    exec(compile(source, str(path), "exec"), namespace)
    return path, namespace["Net"]


def _trained(model):
    """Weights and batch-norm statistics that are not the initial ones."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
    return model.eval()


def test_timm_style_subclasses_import_as_their_torch_layers(tmp_path):
    path, _ = _model(tmp_path, TIMM_LIKE)
    network = import_model(f"{path}:Net", input_shapes=[(3, 6, 6)]).network
    types = {node.id: node.type for node in network.nodes}
    assert types["stem"] == "Conv2d" and types["fc"] == "Linear"
    assert (types["bn1"], types["bn1_act"]) == ("BatchNorm2d", "ReLU")
    assert (types["bn2"], types["bn2_drop"], types["bn2_act"]) == ("BatchNorm2d", "Dropout", "SiLU")
    assert types["bn3"] == "BatchNorm2d" and "bn3_act" not in types  # its act is an Identity
    assert network.node("bn2_drop").params["p"] == 0.1
    assert [w.src for w in network.wires if w.dst == "bn2_act"] == ["bn2_drop"]
    assert types["relu"] == "ReLU"  # inplace=True changes no result
    assert network.node("pool").params["output_size"] == 1  # (1, 1) is 1


def test_the_imported_network_computes_what_the_model_computes(tmp_path):
    _, cls = _model(tmp_path, TIMM_LIKE)
    model = _trained(cls())
    result = import_model(model, input_shapes=[(3, 6, 6)])
    compiled = load_weights(compile_network(result.network), result.weights).eval()
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(compiled) == count(model)
    image = torch.randn(5, 3, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(compiled(image), model(image), atol=1e-4, rtol=1e-4)


def test_a_subclass_that_computes_something_else_is_not_taken_for_its_base(tmp_path):
    path, _ = _model(tmp_path, LAYER_NORM_2D, "norm2d")
    with pytest.raises(ImportModelError) as caught:
        import_model(f"{path}:Net", input_shapes=[(3, 5, 5)])
    message = str(caught.value)
    assert "LayerNorm2d subclass torch.nn layers but compute something else" in message
    assert "layer_norm" in message  # what its forward does, line by line, is listed
