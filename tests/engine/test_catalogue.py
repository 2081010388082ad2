"""Catalogue-wide tests: every layer type is checked against torch from its examples.

Like Keras's ``run_layer_test``, nothing here names a layer type except the textbook
MAC formulas: a new LayerSpec with ``examples`` is tested without writing a test. For
each example, a network Input(s) -> layer -> Output is analysed, compiled and run on a
batch of 2, and the shape rule, parameter count, dtype and generated code must agree
with what PyTorch really does.
"""

from __future__ import annotations

import pytest
import torch

from engine.analysis import analyze
from engine.codegen import generate_code
from engine.compile import compile_network
from engine.errors import CompileError
from engine.layers import CATALOGUE
from engine.layers.spec import Example
from engine.network import Network

LAYERS = [spec for spec in CATALOGUE.values() if spec.role == "layer"]
CASES = [
    pytest.param(spec, example, id=f"{spec.name}-{index}")
    for spec in LAYERS
    for index, example in enumerate(spec.examples)
]
BATCH = 2


def build(spec, example: Example, dtype: str | None = None) -> Network:
    """Input(s) -> one node of ``spec`` (id ``layer``) -> Output."""
    network = Network("probe")
    params = {**spec.defaults(), **example.params}
    layer = network.add_node(spec.name, params, node_id="layer")
    if dtype is None:
        dtype = "int64" if spec.input_dtype == "long" else "float32"
    for number, (port, shape) in enumerate(zip(layer.input_ports(), example.inputs), start=1):
        network.add_node("Input", {"shape": list(shape), "dtype": dtype}, node_id=f"x{number}")
        network.connect(f"x{number}", "out", "layer", port)
    network.add_node("Output", node_id="result")
    network.connect("layer", "out", "result", "in")
    return network


def sample_inputs(network: Network, analysis) -> list[torch.Tensor]:
    """A batch of 2 for each Input; token ids are 0 or 1, valid for any example."""
    torch.manual_seed(0)
    tensors = []
    for node in network.nodes:
        if node.spec.role == "input":
            shape = (BATCH, *analysis.shapes[node.id])
            if analysis.dtypes[node.id] == "long":
                tensors.append(torch.randint(0, 2, shape))
            else:
                tensors.append(torch.randn(shape))
    return tensors


def test_every_layer_type_has_examples():
    missing = [spec.name for spec in LAYERS if not spec.examples]
    assert not missing, f"add LayerSpec.examples to: {', '.join(missing)}"


def test_examples_match_their_ports():
    for spec in LAYERS:
        for example in spec.examples:
            ports = spec.input_ports({**spec.defaults(), **example.params})
            assert len(ports) == len(example.inputs), spec.name


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.name)
def test_help_defaults_and_summary(spec):
    assert spec.family and spec.family[0].isupper()
    assert len(spec.help) > 20 and spec.help.rstrip().endswith(".")
    for param in spec.params:
        assert param.help.strip(), f"{spec.name}.{param.name} has no help"
        assert param.check(param.default) == param.check_type(param.default)
    assert isinstance(spec.describe(spec.defaults()), str)
    for example in spec.examples:
        params = spec.check_params(example.params)
        assert isinstance(spec.describe(params), str)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize(("spec", "example"), CASES)
def test_example_agrees_with_torch(spec, example):
    network = build(spec, example)
    analysis = analyze(network)
    assert analysis.ok, [str(d) for d in analysis.diagnostics]
    module = compile_network(network, analysis)
    inputs = sample_inputs(network, analysis)
    output = module(*inputs)
    assert tuple(output.shape) == (BATCH, *analysis.shapes["layer"])
    expected_dtype = torch.int64 if analysis.dtypes["layer"] == "long" else torch.float32
    assert output.dtype == expected_dtype
    assert analysis.params["layer"] == sum(p.numel() for p in module.parameters())
    macs = analysis.macs["layer"]
    assert isinstance(macs, int) and macs >= 0
    _check_generated_code(network, module, inputs)


def _check_generated_code(network, module, inputs):
    namespace = {"__name__": "deepwire_generated"}
    exec(compile(generate_code(network), "<generated>", "exec"), namespace)
    standalone = namespace["Model"]()
    standalone.load_state_dict(module.state_dict(), strict=True)
    module.eval()
    standalone.eval()
    with torch.no_grad():
        torch.testing.assert_close(standalone(*inputs), module(*inputs))


def _other_ranks(example):
    """Each input swapped for shapes of rank 1 to 4 (one input at a time)."""
    for index in range(len(example.inputs)):
        for rank in range(1, 5):
            shape = (3, 4, 5, 6)[:rank]
            if shape != example.inputs[index]:
                inputs = list(example.inputs)
                inputs[index] = shape
                yield Example(tuple(inputs), example.params)


@pytest.mark.parametrize(("spec", "example"), CASES)
def test_other_ranks_give_a_diagnostic_or_run(spec, example):
    """Any input is either refused with a ShapeError sentence or really works."""
    for variant in _other_ranks(example):
        network = build(spec, variant)
        analysis = analyze(network)
        if analysis.ok:
            module = compile_network(network, analysis)
            output = module(*sample_inputs(network, analysis))
            assert tuple(output.shape) == (BATCH, *analysis.shapes["layer"]), variant
            continue
        messages = [d.message for d in analysis.errors]
        assert all(m.startswith(f"layer: {spec.name} ") for m in messages), messages
        assert not any("could not be checked" in m for m in messages), messages
        with pytest.raises(CompileError):
            compile_network(network, analysis)


def test_wrong_dtype_is_a_diagnostic():
    for spec in LAYERS:
        if spec.input_dtype not in ("float", "long"):
            continue
        example = spec.examples[0]
        wrong = "float32" if spec.input_dtype == "long" else "int64"
        analysis = analyze(build(spec, example, dtype=wrong))
        assert [d.node for d in analysis.errors] == ["layer"], spec.name
        assert "dtype" in analysis.errors[0].message or "Embedding" in analysis.errors[0].message


def test_linear_macs_are_the_textbook_formula():
    spec = CATALOGUE["Linear"]
    analysis = analyze(build(spec, Example(((20,),), {"out_features": 7})))
    assert analysis.macs["layer"] == 20 * 7
    analysis = analyze(build(spec, Example(((5, 6),), {"out_features": 3})))
    assert analysis.macs["layer"] == 5 * 6 * 3


def test_conv2d_macs_are_the_textbook_formula():
    spec = CATALOGUE["Conv2d"]
    example = Example(((3, 10, 12),), {"out_channels": 8, "kernel_size": 3, "stride": 2})
    analysis = analyze(build(spec, example))
    out_h, out_w = (10 - 3) // 2 + 1, (12 - 3) // 2 + 1
    assert analysis.shapes["layer"] == (8, out_h, out_w)
    assert analysis.macs["layer"] == 8 * out_h * out_w * 3 * 3 * 3


MESSAGES = [
    # (layer type, params, input shape(s), words the error must contain)
    ("Conv2d", {}, [(64,)], ["expects an image (channels, height, width)", "(64,)", "(1, 8, 8)"]),
    ("Conv2d", {"kernel_size": 5}, [(1, 3, 3)], ["kernel of 5x5", "only 3x3"]),
    ("Conv2d", {"groups": 3}, [(4, 8, 8)], ["groups=3", "input channels (4)"]),
    ("MaxPool2d", {"kernel_size": 3}, [(2, 2, 2)], ["window of 3x3", "only 2x2"]),
    ("Linear", {}, [(8, 4, 4)], ["(8, 4, 4)", "add a Flatten"]),
    ("LSTM", {}, [(1, 8, 8)], ["expects a sequence (steps, features)", "Reshape", "(8, 8)"]),
    ("MultiheadAttention", {"num_heads": 3}, [(5, 8)], ["not divisible by 3"]),
    ("PositionalEmbedding", {"max_len": 4}, [(5, 8)], ["5 steps", "max_len 4"]),
    ("Add", {}, [(4,), (5,)], ["(4,) on in1", "(5,) on in2"]),
    ("Concat", {}, [(2, 3), (2, 4)], ["dim 1", "(2, 4) on in2"]),
    ("Reshape", {"shape": [3, 3]}, [(10,)], ["10 values", "(3, 3)"]),
]


@pytest.mark.parametrize(("type_name", "params", "shapes", "words"), MESSAGES)
def test_shape_errors_say_what_was_expected_and_got(type_name, params, shapes, words):
    analysis = analyze(build(CATALOGUE[type_name], Example(tuple(shapes), params)))
    (error,) = analysis.errors
    assert error.node == "layer" and error.message.startswith(f"layer: {type_name} ")
    for word in words:
        assert word in error.message


@pytest.mark.parametrize(
    "shapes, result",
    [
        (((16, 8, 8), (16, 1, 1)), (16, 8, 8)),  # a squeeze-excite gate
        (((1, 5), (3, 1)), (3, 5)),
        (((32,), (32, 1)), None),  # ranks differ: torch would pad, Deepwire asks
        (((16, 8, 8), (8, 1, 1)), None),
    ],
)
def test_add_and_multiply_stretch_sizes_of_1_only(shapes, result):
    from engine.errors import ShapeError
    from engine.layers.rules import broadcast_shapes

    if result is None:
        with pytest.raises(ShapeError, match="or of size 1 where they differ"):
            broadcast_shapes(list(shapes), "Multiply")
    else:
        assert broadcast_shapes(list(shapes), "Multiply") == result
