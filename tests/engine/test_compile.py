"""Compiled networks equal the same networks written by hand in torch.nn.

For each architecture the compiled GraphModule and a hand-written module get the same
weights (copied in definition order); then parameter counts, output shapes, outputs and
gradients must agree.
"""

import pytest
import torch

from engine.analysis import analyze
from engine.compile import compile_network, input_specs, output_ids
from engine.errors import CompileError
from tests.engine.builders import chain, graph, mlp
from tests.engine.references import CASES, copy_weights, lenet


@pytest.mark.parametrize("name", CASES)
def test_compiled_network_equals_hand_written(name):
    build, reference_class, make_input = CASES[name]
    torch.manual_seed(0)
    network = build()
    analysis = analyze(network)
    compiled = compile_network(network, analysis)
    reference = reference_class()
    copy_weights(compiled, reference)
    count = sum(p.numel() for p in reference.parameters())
    assert sum(p.numel() for p in compiled.parameters()) == count == analysis.total_params
    compiled.train()
    reference.train()
    x = make_input()
    torch.manual_seed(1)
    ours = compiled(x)
    torch.manual_seed(1)
    theirs = reference(x)
    assert tuple(ours.shape[1:]) == analysis.shapes["output"]
    torch.testing.assert_close(ours, theirs)
    ours.square().sum().backward()
    theirs.square().sum().backward()
    for mine, other in zip(compiled.parameters(), reference.parameters()):
        torch.testing.assert_close(mine.grad, other.grad, rtol=1e-4, atol=1e-5)


def test_submodules_are_named_after_nodes_and_code_is_readable():
    compiled = compile_network(lenet())
    names = [name for name, _ in compiled.named_children()]
    assert names == [
        "conv2d1",
        "relu2",
        "maxpool2d3",
        "conv2d4",
        "relu5",
        "flatten6",
        "linear7",
        "relu8",
        "linear9",
    ]
    assert "conv2d1 = self.conv2d1(input" in compiled.code


def test_forward_takes_inputs_in_order_and_returns_every_output():
    network = graph(
        [
            ("image", "Input", {"shape": [4]}),
            ("extra", "Input", {"shape": [2]}),
            ("joined", "Concat", {}),
            ("score", "Linear", {"out_features": 1}),
            ("label", "Output", {}),
            ("features", "Output", {}),
        ],
        [
            "image->joined.in1",
            "extra->joined.in2",
            "joined->score",
            "score->label",
            "joined->features",
        ],
    )
    compiled = compile_network(network)
    assert [spec[0] for spec in input_specs(network)] == ["image", "extra"]
    assert output_ids(network) == ["label", "features"]
    label, features = compiled(torch.ones(3, 4), torch.zeros(3, 2))
    assert label.shape == (3, 1) and features.shape == (3, 6)
    torch.testing.assert_close(features[:, :4], torch.ones(3, 4))


def test_frozen_nodes_get_no_gradient():
    network = mlp()
    network.set_trainable("linear1", False)
    compiled = compile_network(network)
    assert not any(p.requires_grad for p in compiled.linear1.parameters())
    assert all(p.requires_grad for p in compiled.linear3.parameters())


def test_compiling_a_network_with_errors_raises_with_the_diagnostics():
    network = chain(("Linear", {"out_features": 10}), input_shape=(8, 4, 4))
    with pytest.raises(CompileError) as error:
        compile_network(network)
    assert "add a Flatten before it" in str(error.value)
    assert [d.node for d in error.value.diagnostics] == ["linear1"]


def test_node_named_like_a_builtin_compiles():
    network = chain(("Linear", {"out_features": 2}))
    network.rename_node("linear1", "list")
    network.rename_node("input", "input_")
    assert compile_network(network)(torch.ones(1, 64)).shape == (1, 2)
