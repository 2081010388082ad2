"""Deepwire's own torch modules, for the layers torch.nn has no class for.

A LayerSpec's ``module`` names a torch.nn class, or one of the classes here (named in
``engine.layers.own``):
a learned per-channel multiplier, a learned tensor such as a class token, attention
whose dropout stops in evaluation, and stochastic depth (DropPath). Each is plain torch, and the generated code holds
its source, so that code still imports only torch. This file imports torch: only
compilation and code export read it, never the shape rules.
"""

from __future__ import annotations

import inspect

import torch

from engine.layers.own import OWN_MODULES


class Scale(torch.nn.Module):
    """Multiplies its input by one learned number per channel along ``dim`` (layer scale)."""

    def __init__(self, num_features, dim=1, init=1.0):
        super().__init__()
        self.dim = dim
        self.init = init  # kept, as torch.nn layers keep their settings, for import
        self.weight = torch.nn.Parameter(torch.full((num_features,), float(init)))

    def forward(self, x):
        after = x.dim() - self.dim % x.dim() - 1  # dimensions after dim: broadcast over them
        return x * self.weight.view(-1, *[1] * after)


class LearnedTensor(torch.nn.Module):
    """A learned tensor (a class token, a position embedding), one copy per sample.

    Its weight has a leading 1 for the batch, as timm and torchvision store such
    tensors; ``forward`` repeats it for each sample of ``batch``, whose values it ignores.
    """

    def __init__(self, shape, init="normal", std=0.02):
        super().__init__()
        self.init, self.std = init, std  # kept, as torch.nn layers keep their settings
        self.weight = torch.nn.Parameter(torch.empty(1, *shape))
        if init in ("normal", "trunc_normal") and std == 0:
            torch.nn.init.zeros_(
                self.weight
            )  # a spread of 0 is the mean; trunc_normal_ divides by it
        elif init == "normal":
            torch.nn.init.normal_(self.weight, std=std)
        elif init == "trunc_normal":
            torch.nn.init.trunc_normal_(self.weight, std=std)
        elif init == "zeros":
            torch.nn.init.zeros_(self.weight)
        else:
            torch.nn.init.ones_(self.weight)

    def forward(self, batch):
        return self.weight.expand(batch.size(0), *self.weight.shape[1:])


class ScaledDotProductAttention(torch.nn.Module):
    """softmax(q k^T * scale) v, with dropout on the weights only while training."""

    def __init__(self, dropout_p=0.0, is_causal=False, scale=None):
        super().__init__()
        self.dropout_p = dropout_p
        self.is_causal = is_causal
        self.scale = scale

    def forward(self, query, key, value):
        # As (batch, heads, steps, features), the one layout that ONNX export takes
        q, k, v = (t.reshape(t.size(0), -1, *t.shape[-2:]) for t in (query, key, value))
        mixed = torch.nn.functional.scaled_dot_product_attention(
            q,
            k,
            v,
            dropout_p=self.dropout_p if self.training else 0.0,
            is_causal=self.is_causal,
            scale=self.scale,
        )
        return mixed.reshape(*query.shape[:-1], mixed.size(-1))


class DropPath(torch.nn.Module):
    """While training, drops a sample's whole branch with probability p (stochastic depth)."""

    def __init__(self, p=0.0):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


OWN = {name: globals()[name] for name in OWN_MODULES}


def module_class(name: str) -> type:
    """The class a LayerSpec's ``module`` names: one of ``OWN``, else ``torch.nn.<name>``."""
    return OWN[name] if name in OWN else getattr(torch.nn, name)


def own_sources(model: torch.nn.Module) -> list[str]:
    """The source of each of Deepwire's classes that ``model`` uses, in ``OWN`` order."""
    used = {type(module) for module in model.modules()}
    return [inspect.getsource(cls) for cls in OWN.values() if cls in used]
