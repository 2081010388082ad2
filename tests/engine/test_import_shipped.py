"""What shipped models (timm, torchvision) write in ``forward``, imported.

Each model here is a few lines in the style of a library's own code: learned tensors
read in ``forward`` (class tokens, position embeddings, layer-scale gammas), sizes read
from the input (``B, N, C = x.shape``), indexing (``x[:, 0]``), squeeze-excite gates
that broadcast, functional pooling and DenseNet's ``torch.cat([x])``. ``import_model``
checks every import against the model on its example input; these tests also run the
imported network on another batch size, since a size read from the input must stay
the batch's and not become the example's.
"""

from __future__ import annotations

import textwrap

import pytest
import torch

from engine.compile import compile_network
from engine.importer import ImportModelError, import_model
from engine.weights import load_weights

MODELS = textwrap.dedent(
    """
    import torch
    import torch.nn.functional as F
    from torch import nn


    class LayerScale(nn.Module):  # timm's, for ViT blocks
        def __init__(self, dim):
            super().__init__()
            self.gamma = nn.Parameter(torch.rand(dim))

        def forward(self, x):
            return x * self.gamma


    class Attention(nn.Module):  # timm's Attention, with its size reads
        def __init__(self, dim, heads):
            super().__init__()
            self.heads = heads
            self.qkv = nn.Linear(dim, dim * 3)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x):
            B, N, C = x.shape
            qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)
            x = F.scaled_dot_product_attention(q, k, v)
            x = x.transpose(1, 2).reshape(B, N, C)
            return self.proj(x)


    class TimmViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = nn.Conv2d(3, 16, 4, 4)
            self.cls_token = nn.Parameter(torch.randn(1, 1, 16))
            self.pos_embed = nn.Parameter(torch.randn(1, 17, 16))
            self.norm = nn.LayerNorm(16)
            self.attn = Attention(16, 2)
            self.ls = LayerScale(16)
            self.head = nn.Linear(16, 5)

        def forward(self, x):
            x = self.patch_embed(x).flatten(2).transpose(1, 2)
            x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
            x = x + self.pos_embed
            x = x + self.ls(self.attn(self.norm(x)))
            return self.head(x[:, 0])


    class TorchvisionViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_proj = nn.Conv2d(3, 16, 4, 4)
            self.class_token = nn.Parameter(torch.randn(1, 1, 16))
            self.head = nn.Linear(16, 5)

        def forward(self, x):
            n, c, h, w = x.shape
            torch._assert(h == 16, "Wrong image height!")
            x = self.conv_proj(x).reshape(n, 16, (h // 4) * (w // 4)).permute(0, 2, 1)
            n = x.shape[0]
            batch_class_token = self.class_token.expand(n, -1, -1)
            x = torch.cat([batch_class_token, x], dim=1)
            return self.head(x[:, 1:].mean(dim=1) + x[:, 0])


    class ConvNeXtish(nn.Module):
        def __init__(self):
            super().__init__()
            self.dwconv = nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.gamma = nn.Parameter(torch.rand(8))  # timm: x.mul(gamma.reshape(1, -1, 1, 1))
            self.layer_scale = nn.Parameter(torch.rand(8, 1, 1))  # torchvision

        def forward(self, x):
            y = self.dwconv(x).mul(self.gamma.reshape(1, -1, 1, 1))
            return x + self.layer_scale * y


    class LayerNorm2d(nn.LayerNorm):  # torchvision's ConvNeXt
        def forward(self, x):
            x = x.permute(0, 2, 3, 1)
            x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
            return x.permute(0, 3, 1, 2)


    class DropPath(nn.Module):  # timm's, by its full name
        def __init__(self, drop_prob=0.0, scale_by_keep=True):
            super().__init__()
            self.drop_prob, self.scale_by_keep = drop_prob, scale_by_keep

        def forward(self, x):
            return x  # in evaluation; the import never calls it while training


    DropPath.__module__ = "timm.layers.drop"


    class StochasticDepth(nn.Module):  # torchvision's
        def __init__(self, p, mode):
            super().__init__()
            self.p, self.mode = p, mode

        def forward(self, x):
            return x


    StochasticDepth.__module__ = "torchvision.ops.stochastic_depth"


    class ConvNeXtBlock(nn.Module):
        def __init__(self, mode="row"):
            super().__init__()
            self.dwconv = nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.norm = LayerNorm2d(8)
            self.drop_path = DropPath(0.2)
            self.stochastic_depth = StochasticDepth(0.1, mode)

        def forward(self, x):
            return x + self.stochastic_depth(self.drop_path(self.norm(self.dwconv(x))))


    class BatchDepth(ConvNeXtBlock):
        def __init__(self):
            super().__init__("batch")


    class UnetDecoderBlock(nn.Module):  # segmentation-models-pytorch's, simplified
        def __init__(self, channels):
            super().__init__()
            self.conv = nn.Conv2d(channels, 4, 3, padding=1)

        def forward(self, x, height, width, skip):
            x = F.interpolate(x, size=(height, width), mode="nearest")
            return self.conv(torch.cat([x, skip], dim=1))


    class Unet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1 = nn.Conv2d(3, 4, 3, padding=1)
            self.enc2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
            self.enc3 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
            self.up1 = UnetDecoderBlock(16)
            self.up2 = UnetDecoderBlock(8)

        def forward(self, x):
            features = [self.enc1(x)]
            features.append(self.enc2(features[-1]))
            y = self.enc3(features[-1])
            spatial_shapes = [f.shape[2:] for f in features]
            height, width = spatial_shapes[1]
            y = self.up1(y, height, width, features[1])
            height, width = spatial_shapes[0]
            return self.up2(y, height, width, features[0])


    class SqueezeExcite(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.reduce = nn.Conv2d(8, 2, 1)
            self.expand = nn.Conv2d(2, 8, 1)

        def forward(self, x):
            x = self.conv(x)
            gate = F.adaptive_avg_pool2d(x, (1, 1))
            gate = torch.sigmoid(self.expand(F.relu(self.reduce(gate))))
            features = torch.cat([x * gate], 1)  # DenseNet's first layer of a block
            return F.adaptive_avg_pool2d(features, 1).flatten(1)
    """
)


def _imported(tmp_path, name, shape):
    (tmp_path / "shipped.py").write_text(MODELS)
    return import_model(f"{tmp_path / 'shipped.py'}:{name}", input_shapes=[shape])


def _runs_on_another_batch(tmp_path, result, name, shape):
    """The imported network, with the model's weights, equals the model on a batch of 5."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("shipped_again", tmp_path / "shipped.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    model = getattr(module, name)().eval()  # the weights the import read: seed 0 again
    network = compile_network(result.network).eval()
    load_weights(network, result.weights)
    x = torch.randn(5, *shape)
    with torch.no_grad():
        torch.testing.assert_close(network(x), model(x))
    return model


def _types(result) -> dict:
    return {node.id: node.type for node in result.network.nodes}


def test_learned_tensors_read_in_forward_become_parameter_and_scale_nodes(tmp_path):
    torch.manual_seed(0)
    result = _imported(tmp_path, "TimmViT", (3, 16, 16))
    types = _types(result)
    assert types["cls_token"] == "Parameter" and types["pos_embed"] == "Parameter"
    assert types["attn"] == "Attention"  # its qkv split, rewritten, stays inside its block
    network = result.network
    inside = network.library.get("LayerScale").network if "LayerScale" in network.library else None
    scales = [n for n in (inside or network).nodes if n.type == "Scale"]
    assert len(scales) == 1 and scales[0].params["dim"] == -1
    assert "Select" in set(types.values())
    assert result.weights["cls_token.weight"].shape == (1, 1, 16)
    _runs_on_another_batch(tmp_path, result, "TimmViT", (3, 16, 16))


def test_sizes_read_from_the_input_keep_the_batch_open(tmp_path):
    torch.manual_seed(0)
    result = _imported(tmp_path, "TorchvisionViT", (3, 16, 16))
    types = _types(result)
    assert types["class_token"] == "Parameter"
    assert {"Reshape", "Slice", "Select"} <= set(types.values())
    reshape = next(n for n in result.network.nodes if n.type == "Reshape")
    assert list(reshape.params["shape"]) == [16, 16]  # (n, 16, 16) with n the batch
    _runs_on_another_batch(tmp_path, result, "TorchvisionViT", (3, 16, 16))


def test_layer_scale_gammas_become_scales_along_the_channels(tmp_path):
    torch.manual_seed(0)
    result = _imported(tmp_path, "ConvNeXtish", (8, 5, 5))
    scales = {n.id: n.params["dim"] for n in result.network.nodes if n.type == "Scale"}
    assert scales == {"gamma": -3, "layer_scale": -3}
    model = _runs_on_another_batch(tmp_path, result, "ConvNeXtish", (8, 5, 5))
    assert torch.equal(result.weights["layer_scale.weight"], model.layer_scale.flatten())
    assert torch.equal(result.weights["gamma.weight"], model.gamma)


def test_a_squeeze_excite_gate_broadcasts_and_functional_pooling_imports(tmp_path):
    torch.manual_seed(0)
    result = _imported(tmp_path, "SqueezeExcite", (3, 6, 6))
    types = sorted(_types(result).values())
    assert types.count("AdaptiveAvgPool2d") == 2 and "Multiply" in types
    assert "Concat" not in types  # torch.cat of one tensor is that tensor
    _runs_on_another_batch(tmp_path, result, "SqueezeExcite", (3, 6, 6))


def test_layernorm2d_and_drop_path_of_the_libraries_import(tmp_path):
    torch.manual_seed(0)
    result = _imported(tmp_path, "ConvNeXtBlock", (8, 5, 5))
    nodes = {n.id: (n.type, n.params) for n in result.network.nodes}
    assert nodes["norm_channels_last"] == ("Permute", {"dims": (0, 2, 3, 1)})
    assert nodes["norm"][0] == "LayerNorm"
    assert nodes["norm_channels_first"] == ("Permute", {"dims": (0, 3, 1, 2)})
    assert nodes["drop_path"] == ("DropPath", {"p": 0.2})
    assert nodes["stochastic_depth"] == ("DropPath", {"p": 0.1})
    _runs_on_another_batch(tmp_path, result, "ConvNeXtBlock", (8, 5, 5))


def test_stochastic_depth_of_the_whole_batch_is_refused_by_name(tmp_path):
    with pytest.raises(ImportModelError) as caught:
        _imported(tmp_path, "BatchDepth", (8, 5, 5))
    assert "StochasticDepth in 'batch' mode" in str(caught.value)
    assert "1 module (stochastic_depth)" in str(caught.value)


def test_a_decoder_that_resizes_to_its_skips_sizes_resizes_to_them_at_any_size(tmp_path):
    from engine.analysis import analyze

    torch.manual_seed(0)
    result = _imported(tmp_path, "Unet", (3, 8, 8))
    network = result.network
    assert network.library.names() == ["UnetDecoderBlock"]  # one type, as in the model
    inside = network.library.get("UnetDecoderBlock").network
    (resize,) = [n for n in inside.nodes if n.type == "Interpolate"]
    assert resize.params["match_input"]
    network.set_params("x", {"shape": [3, 12, 12]})
    assert analyze(network).ok  # no longer tied to the 8x8 it was imported at
    _runs_on_another_batch(tmp_path, result, "Unet", (3, 8, 8))
