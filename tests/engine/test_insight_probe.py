"""The probe: every node's output for one sample, on known and on random weights."""

import pytest
import torch

from engine.analysis import analyze
from engine.compile import compile_network
from engine.edits.blocks import plan_group
from engine.errors import CompileError, DataError
from engine.insight.probe import Probe
from engine.insight.stats import tensor_stats
from engine.weights import WeightsError
from tests.engine.builders import chain, graph
from tests.engine.test_blocks import residual_project


def linear_relu():
    """Input (3,) -> Linear 2 -> ReLU -> Output."""
    return chain(("Linear", {"out_features": 2}), "ReLU", input_shape=(3,))


KNOWN = {
    "linear1.weight": torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]),
    "linear1.bias": torch.tensor([0.5, 0.0]),
}


def test_each_node_gives_its_output_for_known_weights():
    outputs = Probe(linear_relu(), state=KNOWN).run({"input": torch.tensor([1.0, 2.0, 3.0])})
    assert list(outputs) == [
        ("input", "out"),
        ("linear1", "out"),
        ("relu2", "out"),
        ("output", "in"),
    ]
    assert outputs["linear1", "out"].tensor.tolist() == [1.5, -2.0]
    relu = outputs["relu2", "out"]
    assert relu.tensor.tolist() == [1.5, 0.0]
    assert relu.stats.zero_fraction == 0.5 and relu.stats.shape == (2,)
    assert outputs["output", "in"].tensor.tolist() == [1.5, 0.0]


def test_inputs_with_or_without_batch_and_of_another_shape_with_as_many_numbers():
    probe = Probe(linear_relu(), state=KNOWN)
    without = probe.run({"input": torch.tensor([1.0, 2.0, 3.0])})
    batch = probe.run({"input": torch.tensor([[1.0, 2.0, 3.0], [9.0, 9.0, 9.0]])})
    column = probe.run({"input": torch.tensor([[1], [2], [3]])})  # integers, (3, 1)
    for other in (batch, column):
        assert torch.equal(other["relu2", "out"].tensor, without["relu2", "out"].tensor)
    with pytest.raises(DataError, match=r"input: takes samples of shape \(3,\), got \(4,\)"):
        probe.run({"input": torch.zeros(4)})
    with pytest.raises(DataError, match="no sample for the Input 'input'"):
        probe.run({})


def test_results_are_detached_float_cpu_tensors_computed_in_eval_mode():
    network = chain(("Dropout", {"p": 0.9}), "BatchNorm1d", input_shape=(6,))
    probe = Probe(network)
    x = torch.arange(6.0)
    outputs = probe.run({"input": x})
    dropped = outputs["dropout1", "out"].tensor
    assert torch.equal(dropped, x)  # no dropout at eval time
    normed = outputs["batchnorm1d2", "out"].tensor  # running stats 0 and 1
    torch.testing.assert_close(normed, x / (1 + 1e-5) ** 0.5)
    assert not normed.requires_grad and normed.dtype == torch.float32


def test_a_blocks_ports_are_its_outputs_and_its_inside_is_not_listed():
    project = residual_project()
    network = project.network
    network.add_node("Output", node_id="side")
    network.connect("relu1", "out", "side", "in")
    plan_group(network, ["conv1", "relu1", "conv2"], "Two", analyze(network)).apply(network)
    compiled = compile_network(network)
    probe = Probe(network, state=compiled.state_dict())
    x = torch.randn(8, 6, 6)
    outputs = probe.run({"input": x})
    assert ("two", "out1") in outputs and ("two", "out2") in outputs
    assert not any(node in ("conv1", "relu1", "conv2") for node, _ in outputs)
    compiled.eval()
    fc, side = compiled(x[None])
    torch.testing.assert_close(outputs["output", "in"].tensor, fc[0])
    torch.testing.assert_close(outputs["side", "in"].tensor, side[0])
    ports = {outputs["two", p].tensor.shape for p in ("out1", "out2")}
    assert ports == {torch.Size([8, 6, 6])}


def unused_branch():
    """input -> fc -> output, and input -> spare (Linear) -> act (ReLU) reaching nothing."""
    return graph(
        [
            ("input", "Input", {"shape": [4]}),
            ("fc", "Linear", {"out_features": 3}),
            ("output", "Output", {}),
            ("spare", "Linear", {"out_features": 5}),
            ("act", "ReLU", {}),
        ],
        ["input->fc", "fc->output", "input->spare", "spare->act"],
    )


def test_nodes_that_reach_no_output_still_show_their_output():
    network = unused_branch()
    trained = compile_network(network).state_dict()  # the weights a run saves: no spare
    assert not any(key.startswith("spare.") for key in trained)
    probe = Probe(network, state=trained)
    x = torch.randn(4)
    outputs = probe.run({"input": x})
    spare = probe.module.spare
    expected = torch.relu(spare(x[None]))[0].detach()
    torch.testing.assert_close(outputs["act", "out"].tensor, expected)
    assert outputs["spare", "out"].tensor.shape == (5,)


def test_two_inputs_and_an_input_that_reaches_nothing():
    network = graph(
        [
            ("a", "Input", {"shape": [4]}),
            ("b", "Input", {"shape": [4]}),
            ("lonely", "Input", {"shape": [2]}),
            ("add", "Add", {}),
            ("output", "Output", {}),
        ],
        ["a->add.in1", "b->add.in2", "add->output"],
    )
    probe = Probe(network)
    inputs = {"a": torch.ones(4), "b": torch.arange(4.0), "lonely": torch.tensor([7.0, 0.0])}
    outputs = probe.run(inputs)
    assert outputs["add", "out"].tensor.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert outputs["lonely", "out"].stats.zero_fraction == 0.5


def test_weights_that_do_not_fit_are_refused_naming_the_node_and_kept_out():
    probe = Probe(linear_relu(), state=KNOWN)
    wrong = {"linear1.weight": torch.zeros(5, 3), "linear1.bias": torch.zeros(2)}
    with pytest.raises(WeightsError, match=r"linear1: weight has shape \(5, 3\)"):
        probe.load_state(wrong)
    with pytest.raises(WeightsError, match="linear1: bias is missing"):
        probe.load_state({"linear1.weight": torch.zeros(2, 3)})
    outputs = probe.run({"input": torch.tensor([1.0, 2.0, 3.0])})
    assert outputs["linear1", "out"].tensor.tolist() == [1.5, -2.0]  # still the known ones


def test_fresh_weights_follow_the_seed_and_leave_torchs_random_state_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    x = {"input": torch.randn(3)}
    first = Probe(linear_relu(), seed=5).run(x)["linear1", "out"].tensor
    again = Probe(linear_relu(), seed=5).run(x)["linear1", "out"].tensor
    other = Probe(linear_relu(), seed=6).run(x)["linear1", "out"].tensor
    assert torch.equal(first, again) and not torch.equal(first, other)
    torch.random.set_rng_state(before)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_loading_new_weights_changes_the_outputs_without_compiling_again():
    probe = Probe(linear_relu())
    module = probe.module
    probe.load_state(KNOWN)
    assert probe.module is module
    outputs = probe.run({"input": torch.tensor([1.0, 2.0, 3.0])})
    assert outputs["linear1", "out"].tensor.tolist() == [1.5, -2.0]


def test_a_network_with_errors_is_a_compile_error():
    broken = chain(("Linear", {"out_features": 10}), input_shape=(8, 4, 4))
    with pytest.raises(CompileError, match="Linear expects a flat input"):
        Probe(broken)


def test_statistics_of_a_known_tensor():
    stats = tensor_stats(torch.tensor([0.0, 0.0, 1.0, 3.0]))
    assert (stats.mean, stats.minimum, stats.maximum, stats.zero_fraction) == (1, 0, 3, 0.5)
    assert stats.std == pytest.approx(1.5**0.5)
    assert stats.describe() == "mean 1 · std 1.22 · min 0 · max 3 · 50 % zeros"
    assert tensor_stats(torch.tensor([1, 2])).mean == 1.5  # integers read as numbers
    empty = tensor_stats(torch.zeros(0, 3))
    assert empty.shape == (0, 3) and empty.zero_fraction == 0
    few = tensor_stats(torch.cat([torch.zeros(1), torch.ones(999)]))
    assert few.describe().endswith("<1 % zeros")


def test_the_spread_of_a_nearly_constant_tensor_is_not_lost_to_rounding():
    values = 100 + torch.linspace(-1e-3, 1e-3, 1001)
    exact = values.double().std(correction=0).item()
    assert tensor_stats(values).std == pytest.approx(exact, rel=1e-3)
    assert tensor_stats(values).mean == pytest.approx(100, abs=1e-6)


def test_inputs_and_outputs_of_one_or_three_channels_are_pictured_as_images():
    decoder = chain(
        ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
        ("Conv2d", {"out_channels": 3, "kernel_size": 3, "padding": 1}),
        input_shape=(1, 6, 6),
    )
    outputs = Probe(decoder).run({"input": torch.randn(1, 6, 6)})
    kinds = {node: output.kind for (node, _), output in outputs.items()}
    assert kinds == {"input": "image", "conv2d1": None, "conv2d2": "image", "output": "image"}
    flat = Probe(linear_relu()).run({"input": torch.randn(3)})
    assert {output.kind for output in flat.values()} == {None}
