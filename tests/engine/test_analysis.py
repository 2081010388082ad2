"""Analysis: diagnostics a user can act on, shapes, counts and memory, never an exception."""

from engine.analysis import analyze, format_bytes
from engine.network import Network
from tests.engine.builders import chain, mlp


def messages(network):
    return [d.message for d in analyze(network).diagnostics]


def test_clean_mlp_has_shapes_params_and_macs():
    analysis = analyze(mlp())
    assert analysis.ok and not analysis.diagnostics
    assert analysis.shapes == {
        "input": (64,),
        "linear1": (32,),
        "relu2": (32,),
        "linear3": (10,),
        "output": (10,),
    }
    assert analysis.params == {"input": 0, "linear1": 2080, "relu2": 0, "linear3": 330, "output": 0}
    assert analysis.total_params == 64 * 32 + 32 + 32 * 10 + 10
    assert analysis.total_macs == 64 * 32 + 32 * 10
    assert analysis.order == ["input", "linear1", "relu2", "linear3", "output"]


def test_empty_network_needs_input_and_output():
    assert messages(Network()) == [
        "the network has no Input; add one for the data",
        "the network has no Output; add one after the last layer",
    ]


def test_unconnected_ports_and_dead_ends_are_reported_on_their_node():
    network = mlp()
    network.add_node("ReLU", node_id="stray")
    network.connect("linear1", "out", "stray", "in")
    network.add_node("Linear", node_id="lonely")
    analysis = analyze(network)
    assert [(d.severity, d.node) for d in analysis.diagnostics] == [
        ("error", "lonely"),
        ("warning", "stray"),
        ("warning", "lonely"),
    ]
    assert analysis.for_node("lonely")[0].message == "lonely: nothing is wired into it"
    assert "reaches no Output" in analysis.for_node("stray")[0].message


def test_cycle_is_reported_and_the_rest_is_still_analysed():
    network = chain("ReLU", "Tanh", "Sigmoid")
    network.disconnect(network.wire_into("relu1", "in"))
    network.connect("sigmoid3", "out", "relu1", "in")
    analysis = analyze(network)
    loop = [d for d in analysis.errors if "loop" in d.message]
    assert len(loop) == 1
    assert "relu1 -> tanh2 -> sigmoid3 -> relu1" in loop[0].message
    assert "input" in analysis.shapes


def test_linear_after_an_image_suggests_flatten():
    network = chain(("Linear", {"out_features": 10}), input_shape=(8, 4, 4))
    (error,) = analyze(network).errors
    assert error.node == "linear1"
    assert error.message == (
        "linear1: Linear expects a flat input (features,) or a sequence (steps, features), "
        "got (8, 4, 4); add a Flatten before it"
    )


def test_linear_maps_the_channels_of_a_map_moved_channels_last_but_not_a_conv_output():
    channels_last = chain(
        ("Conv2d", {"out_channels": 8, "kernel_size": 1}),
        ("Permute", {"dims": [0, 2, 3, 1]}),
        ("LayerNorm", {}),
        ("Linear", {"out_features": 32}),
        ("GELU", {}),
        ("Linear", {"out_features": 8}),
        input_shape=(3, 4, 4),
    )  # ConvNeXt's block
    analysis = analyze(channels_last)
    assert analysis.ok and analysis.shapes["linear6"] == (4, 4, 8)
    after_conv = chain(
        ("Conv2d", {"out_channels": 8, "kernel_size": 1}),
        ("ReLU", {}),
        ("Linear", {"out_features": 10}),
        input_shape=(3, 4, 4),
    )
    (error,) = analyze(after_conv).errors
    assert error.message == (
        "linear3: Linear expects a flat input (features,) or a sequence (steps, features), "
        "got (8, 4, 4); add a Flatten before it"
    )


def test_error_fixed_clears_the_diagnostic():
    network = chain(("Linear", {"out_features": 10}), input_shape=(8, 4, 4))
    assert not analyze(network).ok
    network.set_params("input", {"shape": [128]})
    assert analyze(network).ok


def test_out_of_range_value_from_a_file_is_a_diagnostic():
    network = Network.from_dict(
        {
            "nodes": [
                {"id": "input", "type": "Input", "params": {"shape": [4]}},
                {"id": "fc", "type": "Linear", "params": {"out_features": -3}},
                {"id": "output", "type": "Output"},
            ],
            "edges": [
                {"from": ["input", "out"], "to": ["fc", "in"]},
                {"from": ["fc", "out"], "to": ["output", "in"]},
            ],
        }
    )
    (error,) = analyze(network).errors
    assert error.message == "fc: out_features must be at least 1, got -3"


def test_token_ids_into_linear_suggest_an_embedding():
    network = chain(("Linear", {"out_features": 4}), input_shape=(12,), dtype="int64")
    (error,) = analyze(network).errors
    assert "add an Embedding before it" in error.message


def test_a_billion_outputs_are_analysed_without_allocating():
    network = chain(("Linear", {"out_features": 1_000_000_000}), input_shape=(1000,))
    analysis = analyze(network)
    assert analysis.total_params == 1000 * 1_000_000_000 + 1_000_000_000
    (warning,) = analysis.warnings
    assert "parameters take" in warning.message and "GB" in warning.message


def test_memory_estimate_counts_weights_gradients_state_and_activations():
    analysis = analyze(mlp())
    params = analysis.total_params
    estimate = analysis.memory_estimate(batch_size=10, optimizer="Adam")
    assert estimate.weights == 4 * params
    assert estimate.gradients == 4 * params
    assert estimate.optimizer_state == 8 * params
    assert estimate.activations == 10 * 4 * (64 + 32 + 32 + 10 + 10)
    assert estimate.total == sum(
        (estimate.weights, estimate.gradients, estimate.optimizer_state, estimate.activations)
    )
    network = mlp()
    network.set_trainable("linear1", False)
    frozen = analyze(network).memory_estimate(batch_size=10, optimizer="SGD")
    assert frozen.gradients == 4 * (32 * 10 + 10) and frozen.optimizer_state == 0


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KB"
    assert format_bytes(3 * 2**30) == "3.0 GB"


def test_an_output_too_big_for_a_tensor_is_an_error_not_a_crash_even_into_a_block():
    from engine.blocks.builtin import builtin_block
    from engine.edits.blocks import plan_place_block

    network = Network("model")
    network.add_node("Input", {"shape": [1, 46341, 1]}, node_id="rows")
    network.add_node("Input", {"shape": [1, 1, 46341]}, node_id="columns")
    network.add_node("Multiply", node_id="grid")  # (1, 46341, 46341): 2.1e+09 numbers
    network.connect("rows", "out", "grid", "in1")
    network.connect("columns", "out", "grid", "in2")
    plan_place_block(network, "ConvBNReLU", builtin_block("ConvBNReLU"), (0, 0)).apply(network)
    block = network.nodes[-1].id
    network.connect("grid", "out", block, network.node(block).input_ports()[0])
    network.add_node("Output", node_id="output")
    network.connect(block, network.node(block).output_ports()[0], "output", "in")
    errors = analyze(network).errors
    assert [e.node for e in errors] == ["grid"]
    assert errors[0].message == (
        "grid: Multiply would output (1, 46341, 46341), 2,147,488,281 numbers a sample; a tensor "
        "holds at most 2,147,483,647"
    )
    block_type = network.library.get("ConvBNReLU")
    inside = network.library.spec("ConvBNReLU").analyze(block_type.defaults(), [(1, 46341, 46341)])
    assert inside.errors and "at most 2,147,483,647" in inside.errors[0].message
