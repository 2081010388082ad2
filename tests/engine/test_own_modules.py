"""Layers that torch.nn has no class for (Scale, Parameter, ScaledDotProductAttention).

The catalogue-wide tests check each against torch on its own; these check what their
own module classes add: code that defines each class once, also inside a block, and the
behaviour the classes exist for.
"""

import pytest
import torch

from engine.analysis import analyze
from engine.codegen import check_class_name, generate_code
from engine.compile import compile_network
from engine.edits.blocks import plan_group
from engine.export.onnx_export import export_onnx
from engine.export.prepare import ExportError, prepare
from tests.engine.builders import graph

NODES = [
    ("tokens", "Input", {"shape": [4, 8]}),
    ("cls_token", "Parameter", {"shape": [1, 8]}),
    ("joined", "Concat", {"dim": 1}),
    ("attn", "ScaledDotProductAttention", {"dropout_p": 0.5}),
    ("gamma", "Scale", {"dim": -1, "init": 0.5}),
    ("output", "Output", {}),
]
WIRES = [
    "tokens->cls_token.batch", "cls_token->joined.in1", "tokens->joined.in2",
    "joined->attn.query", "joined->attn.key", "joined->attn.value", "attn->gamma",
    "gamma->output",
]  # fmt: skip


def _standalone(network, module):
    namespace = {"__name__": "generated"}
    code = generate_code(network)
    exec(compile(code, "<generated>", "exec"), namespace)
    model = namespace["Model"]()
    model.load_state_dict(module.state_dict(), strict=True)
    return code, model


def test_generated_code_defines_each_own_class_once_even_inside_a_block():
    network = graph(NODES, WIRES)
    plan_group(network, ["attn", "gamma"], "Mixer", analyze(network)).apply(network)
    network.add_node("Mixer", node_id="second")
    network.disconnect(network.wire_into("output", "in"))
    network.connect("mixer", "out", "second", "x")
    network.connect("second", "out", "output", "in")
    module = compile_network(network)
    code, model = _standalone(network, module)
    for name in ("LearnedTensor", "ScaledDotProductAttention", "Scale", "Mixer"):
        assert code.count(f"class {name}(torch.nn.Module):") == 1, name
    assert "self.gamma = Scale(num_features=in_features, dim=-1, init=0.5)" in code
    x = torch.randn(3, 4, 8)
    module.eval(), model.eval()
    torch.testing.assert_close(model(x), module(x))


def test_attention_dropout_works_in_training_only():
    module = compile_network(graph(NODES, WIRES))
    x = torch.randn(3, 4, 8)
    module.eval()
    first, second = module(x), module(x)
    assert torch.equal(first, second)
    module.train()
    torch.manual_seed(0)
    assert not torch.allclose(module(x), first)


def test_a_parameter_gives_each_sample_the_same_learned_tensor():
    nodes = [*NODES[:2], ("output", "Output", {})]
    module = compile_network(graph(nodes, [WIRES[0], "cls_token->output"]))
    out = module(torch.randn(3, 4, 8))
    assert out.shape == (3, 1, 8) and torch.equal(out[0], out[2])
    out.sum().backward()
    (weight,) = module.parameters()
    assert weight.shape == (1, 1, 8) and torch.equal(weight.grad, torch.full((1, 1, 8), 3.0))


def test_a_class_name_of_an_own_layer_class_is_refused():
    with pytest.raises(ExportError, match=r"Scale.*choose another"):
        check_class_name("Scale")


def test_own_classes_export_to_onnx_with_the_same_outputs(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    prepared = prepare(graph(NODES, WIRES))
    (path,) = export_onnx(prepared, tmp_path / "model.onnx")
    x = torch.randn(3, 4, 8)
    session = onnxruntime.InferenceSession(str(path))
    (result,) = session.run(None, {"tokens": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(result), prepared.module(x).detach())


@pytest.mark.parametrize("init", ["normal", "trunc_normal"])
def test_a_random_start_with_no_spread_is_its_mean(init):
    network = graph(
        [("x", "Input", {"shape": [3]}),
         ("p", "Parameter", {"shape": [2, 3], "init": init, "std": 0.0}),
         ("output", "Output", {})],
        ["x->p.batch", "p->output"],
    )  # fmt: skip
    out = compile_network(network)(torch.randn(4, 3))
    assert out.shape == (4, 2, 3)
    assert torch.equal(out, torch.zeros(4, 2, 3))


def test_drop_path_drops_whole_samples_in_training_only():
    network = graph(
        [("x", "Input", {"shape": [3, 4]}), ("drop", "DropPath", {"p": 0.5}), ("output", "Output", {})],
        ["x->drop", "drop->output"],
    )  # fmt: skip
    module = compile_network(network)
    x = torch.ones(2000, 3, 4)
    torch.manual_seed(0)
    out = module.train()(x)
    per_sample = out.flatten(1)
    kept = per_sample[:, 0] != 0
    assert set(per_sample.unique().tolist()) == {0.0, 2.0}  # dropped, or scaled by 1 / keep
    assert all(row.unique().numel() == 1 for row in per_sample[:20])  # the whole sample
    assert 0.45 < kept.float().mean().item() < 0.55
    assert torch.equal(module.eval()(x), x)
