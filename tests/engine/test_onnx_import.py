"""``import_onnx`` / ``deepwire import model.onnx``: an ONNX graph becomes a network.

Files come from small torch models exported here (an MLP, a CNN with BatchNorm and
pooling, a residual block, a Concat branch, a sequence MLP with GELU and LayerNorm) and
from graphs built by hand with ``onnx.helper``. Each imported network, compiled with
the imported weights, must give onnxruntime's outputs within 1e-4 and have the model's
parameter count; broken and hostile files end in one sentence.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from engine.analysis import analyze
from engine.cli import EXIT_BAD_INPUT, EXIT_OK, main
from engine.compile import compile_network
from engine.importer import ImportModelError
from engine.onnx_import import import_onnx
from engine.project import load
from engine.weights import load_weights, read_weights
from tests.engine.test_import_cli import said


def export(model: nn.Module, sample_shape, path, opset=17, dynamic=True):
    """Write ``model`` (in eval mode) as ONNX with the legacy exporter (fast, offline)."""
    example = torch.randn(1, *sample_shape)
    axes = {"x": {0: "batch"}, "y": {0: "batch"}} if dynamic else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(), (example,), str(path), dynamo=False, opset_version=opset,
            input_names=["x"], output_names=["y"], dynamic_axes=axes,
        )  # fmt: skip
    return path


def assert_same_as_onnxruntime(path, result, batch=3):
    """The imported network, given its imported weights, computes what onnxruntime does."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    sample = tuple(result.network.node(_input_id(result)).params["shape"])
    x = np.random.default_rng(1).standard_normal((batch, *sample)).astype(np.float32)
    (expected,) = session.run(None, {session.get_inputs()[0].name: x})
    compiled = load_weights(compile_network(result.network), result.weights).eval()
    with torch.no_grad():
        got = compiled(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def _input_id(result):
    return next(n.id for n in result.network.nodes if n.type == "Input")


def layer_types(result):
    return [n.type for n in result.network.nodes if n.type not in ("Input", "Output")]


def parameter_count(network):
    return sum(analyze(network).params.values())


def torch_count(model):
    return sum(p.numel() for p in model.parameters())


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(12, 16), nn.Linear(16, 5)

    def forward(self, x):
        return torch.softmax(self.fc2(torch.relu(self.fc1(x))), dim=-1)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2, bias=False)
        self.head = nn.Linear(8, 4)
        with torch.no_grad():  # running statistics other than 0 and 1, so they count
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)

    def forward(self, x):
        x = nn.functional.max_pool2d(self.bn(torch.relu(self.conv1(x))), 2)
        x = nn.functional.avg_pool2d(nn.functional.leaky_relu(self.conv2(x), 0.2), 2)
        return self.head(torch.flatten(x, 1))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        y = self.conv2(torch.relu(self.conv1(x)))
        return torch.flatten(self.pool(torch.relu(x + y)), 1)


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.left, self.right = nn.Conv1d(2, 3, 3, padding=1), nn.Conv1d(2, 5, 1)

    def forward(self, x):
        joined = torch.cat([torch.tanh(self.left(x)), torch.sigmoid(self.right(x))], dim=1)
        return nn.functional.elu(joined)


class Tokens(nn.Module):
    """A sequence MLP: Linear on (steps, features) exports as MatMul + Add."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 10), nn.Linear(10, 6)
        self.norm, self.drop = nn.LayerNorm(6), nn.Dropout(0.1)

    def forward(self, x):
        return self.norm(x + self.drop(self.fc2(nn.functional.gelu(self.fc1(x)))))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        return torch.relu(self.up(x))


class Mobile(nn.Module):
    """Layers of modern CNNs: ReLU6 (Clip), a layer scale, Hardswish, SiLU (x * sigmoid),
    Interpolate (Resize), Mean (ReduceMean) and Hardsigmoid."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.gamma = nn.Parameter(torch.rand(6, 1, 1) + 0.5)

    def forward(self, x):
        x = nn.functional.relu6(self.conv(x)) * self.gamma
        x = nn.functional.hardswish(x) + nn.functional.silu(x)
        x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
        x = nn.functional.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False)
        return nn.functional.hardsigmoid(x.mean((2, 3), keepdim=True))


MODELS = {
    "mlp": (Mlp, (12,), ["Linear", "ReLU", "Linear", "Softmax"]),
    "cnn": (Cnn, (3, 8, 8), ["Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d", "Conv2d",
                             "LeakyReLU", "AvgPool2d", "Flatten", "Linear"]),
    "residual": (Residual, (4, 5, 5), ["Conv2d", "ReLU", "Conv2d", "Add", "ReLU",
                                       "AdaptiveAvgPool2d", "Flatten"]),
    "branches": (Branches, (2, 7), ["Conv1d", "Tanh", "Conv1d", "Sigmoid", "Concat", "ELU"]),
    "tokens": (Tokens, (4, 6), ["Linear", "GELU", "Linear", "Add", "LayerNorm"]),
    "decoder": (Decoder, (4, 3, 3), ["ConvTranspose2d", "ReLU"]),
    "mobile": (Mobile, (3, 4, 4), ["Conv2d", "ReLU6", "Scale", "Hardswish", "SiLU", "Add",
                                   "Interpolate", "Interpolate", "Mean", "Hardsigmoid"]),
}  # fmt: skip


@pytest.mark.parametrize("name", MODELS)
def test_exported_torch_models_import_with_their_weights(tmp_path, name):
    cls, shape, types = MODELS[name]
    torch.manual_seed(0)
    model = cls()
    path = export(model, shape, tmp_path / f"{name}.onnx")
    result = import_onnx(path)
    assert sorted(layer_types(result)) == sorted(types)
    assert result.network.node(_input_id(result)).params["shape"] == shape
    assert parameter_count(result.network) == torch_count(model)
    assert_same_as_onnxruntime(path, result)


def test_node_ids_follow_the_module_names(tmp_path):
    result = import_onnx(export(Cnn(), (3, 8, 8), tmp_path / "cnn.onnx"))
    ids = {n.id for n in result.network.nodes}
    assert {"x", "conv1", "bn", "conv2", "head", "output"} <= ids
    assert {"conv1.weight", "bn.running_var", "bn.num_batches_tracked"} <= set(result.weights)


def test_a_fixed_batch_and_an_older_opset_import(tmp_path):
    torch.manual_seed(0)
    model = Mlp()
    path = export(model, (12,), tmp_path / "fixed.onnx", opset=11, dynamic=False)
    result = import_onnx(path)
    assert layer_types(result) == ["Linear", "ReLU", "Linear", "Softmax"]
    assert_same_as_onnxruntime(path, result, batch=1)


def test_a_view_by_size_becomes_a_reshape(tmp_path):
    class Viewed(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 3)

        def forward(self, x):  # Shape -> Gather -> Unsqueeze -> Concat -> Reshape
            return self.fc(x.view(x.size(0), -1))

    path = export(Viewed(), (3, 2, 2), tmp_path / "viewed.onnx")
    result = import_onnx(path)
    reshape = next(n for n in result.network.nodes if n.type == "Reshape")
    assert tuple(reshape.params["shape"]) == (12,)
    assert_same_as_onnxruntime(path, result)


def test_token_ids_through_an_embedding_import(tmp_path):
    class Words(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.fc = nn.Embedding(20, 4), nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(self.embed(x))

    path = tmp_path / "words.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Words().eval(), (torch.zeros(1, 5, dtype=torch.long),), str(path), dynamo=False,
            input_names=["x"], dynamic_axes={"x": {0: "batch"}},
        )  # fmt: skip
    result = import_onnx(path)
    assert layer_types(result) == ["Embedding", "Linear"]
    assert result.network.node("x").params == {"shape": (5,), "dtype": "int64"}
    assert parameter_count(result.network) == 20 * 4 + 4 * 2 + 2


def test_an_import_that_computes_otherwise_is_refused(tmp_path, monkeypatch):
    from engine.onnx_import import mapping, plain

    monkeypatch.setitem(mapping.RULES, "Relu", plain._layer("Tanh"))  # a wrong rule
    path = export(Mlp(), (12,), tmp_path / "mlp.onnx")
    with pytest.raises(ImportModelError, match=r"computes output 1 differently from mlp\.onnx"):
        import_onnx(path)


# Graphs built by hand --------------------------------------------------------------


def save(tmp_path, nodes, inputs, outputs, initializers=(), opset=17, name="hand.onnx"):
    graph = helper.make_graph(nodes, "hand", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def tensor(name, shape, dims=None):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims or shape)


def weight(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_with_alpha_beta_and_trans_b_becomes_a_linear(tmp_path, trans_b):
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((5, 3) if trans_b else (3, 5))
    gemm = helper.make_node(
        "Gemm", ["x", "w", "b"], ["y"], name="fc", transB=trans_b, alpha=0.5, beta=2.0
    )
    path = save(
        tmp_path, [gemm], [tensor("x", ["n", 3])], [tensor("y", ["n", 5])],
        [weight("w", matrix), weight("b", rng.standard_normal(5))],
    )  # fmt: skip
    result = import_onnx(path)
    assert layer_types(result) == ["Linear"]
    assert parameter_count(result.network) == 3 * 5 + 5
    assert_same_as_onnxruntime(path, result)


def _chain(tmp_path, perm):
    """x (2, 12) -> Reshape (0, 3, 4) -> Transpose perm -> Flatten -> Gemm."""
    nodes = [
        helper.make_node("Reshape", ["x", "to"], ["r"], name="/split/Reshape"),
        helper.make_node("Transpose", ["r"], ["t"], name="/swap/Transpose", perm=perm),
        helper.make_node("Flatten", ["t"], ["f"], name="/flat/Flatten"),
        helper.make_node("Gemm", ["f", "w"], ["y"], name="/fc/Gemm", transB=1),
    ]
    constants = [
        numpy_helper.from_array(np.array([0, 3, 4], dtype=np.int64), "to"),
        weight("w", np.random.default_rng(0).standard_normal((2, 12))),
    ]
    return save(tmp_path, nodes, [tensor("x", ["n", 12])], [tensor("y", ["n", 2])], constants)


def test_a_reshape_and_a_transpose_of_size_one_dims_import(tmp_path):
    nodes = [
        helper.make_node("Unsqueeze", ["x", "axes"], ["u"], name="/u/Unsqueeze"),
        helper.make_node("Transpose", ["u"], ["t"], name="/t/Transpose", perm=[0, 2, 1]),
        helper.make_node("Squeeze", ["t", "last"], ["y"], name="/s/Squeeze"),
    ]
    constants = [
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "last"),
    ]
    path = save(tmp_path, nodes, [tensor("x", ["n", 5])], [tensor("y", ["n", 5])], constants)
    result = import_onnx(path)
    assert layer_types(result) == ["Reshape"] * 3  # none of them reorders the values
    assert_same_as_onnxruntime(path, result)


def test_a_reshape_transpose_chain_becomes_reshape_permute_flatten(tmp_path):
    path = _chain(tmp_path, [0, 2, 1])
    result = import_onnx(path)
    assert layer_types(result) == ["Reshape", "Permute", "Flatten", "Linear"]
    assert_same_as_onnxruntime(path, result)


def test_a_transpose_of_the_batch_is_refused(tmp_path):
    with pytest.raises(ImportModelError, match="Transpose that moves the batch dimension"):
        import_onnx(_chain(tmp_path, [1, 0, 2]))


def test_unsupported_ops_are_grouped_by_type_in_one_sentence(tmp_path):
    nodes = [helper.make_node("Sin", ["x"], ["s0"], name="/Sin_0")]
    nodes += [
        helper.make_node("Sin", [f"s{i}"], [f"s{i + 1}"], name=f"/Sin_{i + 1}") for i in range(3)
    ]
    nodes += [
        helper.make_node("Cos", ["s3"], ["c"], name="/Cos"),
        helper.make_node("Mul", ["c", "k"], ["y"], name="/Mul"),
    ]
    path = save(
        tmp_path, nodes, [tensor("x", ["n", 4])], [tensor("y", ["n", 4])], [weight("k", [2.0])]
    )
    with pytest.raises(ImportModelError) as caught:
        import_onnx(path)
    message = str(caught.value)
    assert message.startswith("cannot import hand.onnx: no Deepwire layer for Sin: 4 nodes, e.g. ")
    assert "/Sin_0, /Sin_1, /Sin_2;" in message and "/Sin_3" not in message
    assert (
        "Cos: 1 node (/Cos)" in message
        and "Mul by a constant other than one number per channel: 1 node (/Mul)" in message
    )
    assert "\n" not in message


def test_two_inputs_two_outputs_and_a_dropout(tmp_path):
    nodes = [
        helper.make_node("Add", ["a", "b"], ["s"], name="/sum/Add"),
        helper.make_node("Dropout", ["s", "ratio"], ["d"], name="/drop/Dropout"),
        helper.make_node("Concat", ["d", "b"], ["joined"], name="/cat/Concat", axis=-1),
        helper.make_node("Identity", ["s"], ["same"], name="/Identity"),
    ]
    ratio = numpy_helper.from_array(np.array(0.25, dtype=np.float32), "ratio")
    path = save(
        tmp_path, nodes, [tensor("a", ["n", 3]), tensor("b", ["n", 3])],
        [tensor("joined", ["n", 6]), tensor("same", ["n", 3])], [ratio],
    )  # fmt: skip
    result = import_onnx(path)
    network = result.network
    assert layer_types(result) == ["Add", "Dropout", "Concat"]
    assert network.node("drop").params["p"] == 0.25
    assert network.wire_into("output2", "in").src == "sum"
    feeds = {"a": np.ones((2, 3), np.float32), "b": np.full((2, 3), 2.0, np.float32)}
    expected = onnxruntime.InferenceSession(str(path)).run(None, feeds)
    with torch.no_grad():
        got = compile_network(network).eval()(*(torch.from_numpy(feeds[k]) for k in "ab"))
    for mine, theirs in zip(got, expected):
        np.testing.assert_allclose(mine.numpy(), theirs)


@pytest.mark.parametrize(
    "attributes, told",
    [
        ({"auto_pad": "SAME_UPPER"}, None),
        ({"pads": [1, 1, 1, 1], "strides": [2, 1], "dilations": [1, 2]}, None),
        ({"pads": [0, 0, 1, 1]}, "Conv with uneven padding: 1 node (/conv/Conv)"),
        ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, "Conv with auto_pad SAME_UPPER"),
    ],
)
def test_conv_padding_is_read_or_refused(tmp_path, attributes, told):
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="/conv/Conv", **attributes)
    w = weight("w", np.random.default_rng(0).standard_normal((4, 2, 3, 3)))
    out = tensor("y", [1, 4, "h", "w"])
    path = save(tmp_path, [conv], [tensor("x", [1, 2, 6, 6])], [out], [w])
    if told:
        with pytest.raises(ImportModelError, match=re.escape(told)):
            import_onnx(path)
    else:
        assert_same_as_onnxruntime(path, import_onnx(path), batch=1)


def test_a_symbolic_size_asks_for_input_shape(tmp_path):
    relu = helper.make_node("Relu", ["x"], ["y"])
    path = save(tmp_path, [relu], [tensor("x", ["n", "c", 4])], [tensor("y", ["n", "c", 4])])
    with pytest.raises(ImportModelError, match=r"input 'x' is not fixed.*--input-shape"):
        import_onnx(path)
    result = import_onnx(path, input_shapes=[(3, 4)])
    assert result.network.node("x").params["shape"] == (3, 4)
    with pytest.raises(ImportModelError, match="does not fit"):
        import_onnx(path, input_shapes={"x": (3, 5)})


# Broken and hostile files ------------------------------------------------------------


def _opset_99(tmp_path):
    relu = helper.make_node("Relu", ["x"], ["y"])
    return save(tmp_path, [relu], [tensor("x", ["n", 4])], [tensor("y", ["n", 4])], opset=99)


def _truncated(tmp_path):
    whole = export(Mlp(), (12,), tmp_path / "whole.onnx").read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(whole[: len(whole) // 2])
    return path


def _escaping_weights(tmp_path):
    w = weight("w", np.ones((2, 4)))
    w.data_location = TensorProto.EXTERNAL
    w.ClearField("raw_data")
    entry = w.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    gemm = helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)
    return save(tmp_path, [gemm], [tensor("x", ["n", 4])], [tensor("y", ["n", 2])], [w])


def _huge_constant(tmp_path):
    """A ConstantOfShape asking for 2**40 numbers must not be computed."""
    nodes = [
        helper.make_node("ConstantOfShape", ["size"], ["big"], name="/big"),
        helper.make_node("Add", ["x", "big"], ["y"], name="/add"),
    ]
    size = numpy_helper.from_array(np.array([2**20, 2**20], dtype=np.int64), "size")
    return save(tmp_path, nodes, [tensor("x", ["n", 4])], [tensor("y", ["n", 4])], [size])


def _huge_input(tmp_path):
    relu = helper.make_node("Relu", ["x"], ["y"])
    dims = [2, 3, 100_000, 100_000]
    return save(tmp_path, [relu], [tensor("x", dims)], [tensor("y", dims)])


def _long_names(tmp_path):
    nodes = [helper.make_node("Sin", ["x"], ["y"], name="/" + "n" * 100_000)]
    return save(tmp_path, nodes, [tensor("x", ["n", 4])], [tensor("y", ["n", 4])])


HOSTILE = {
    "text": (lambda p: _write(p / "t.onnx", b"not an onnx file\n" * 20), "not an ONNX model"),
    "random": (lambda p: _write(p / "r.onnx", bytes(range(256)) * 8), "not an ONNX model"),
    "empty": (lambda p: _write(p / "e.onnx", b""), "not an ONNX model"),
    "truncated": (_truncated, "cut.onnx: not an ONNX model, or a damaged one"),
    "missing": (lambda p: p / "nowhere.onnx", "no such file"),
    "opset 99": (_opset_99, "uses ONNX opset 99, newer than Deepwire can read"),
    "weights outside": (_escaping_weights, "outside the model's folder"),
    "huge constant": (_huge_constant, "ConstantOfShape: 1 node (/big)"),
    "long names": (_long_names, "Sin: 1 node (/nnnnn"),
    "huge input": (_huge_input, "too many to check the import with"),
}


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", HOSTILE)
def test_broken_and_hostile_files_are_refused_in_a_sentence(tmp_path, case):
    make, told = HOSTILE[case]
    with pytest.raises(ImportModelError) as caught:
        import_onnx(make(tmp_path))
    message = str(caught.value)
    assert told in message and "\n" not in message and len(message) < 400


# The command line --------------------------------------------------------------------


def test_cli_imports_an_onnx_file_beside_it_with_its_weights(tmp_path, capsys):
    path = export(Cnn(), (3, 8, 8), tmp_path / "cnn.onnx")
    status = main(["import", str(path), "--weights-out", str(tmp_path / "w.safetensors")])
    out, err = capsys.readouterr()
    assert status == EXIT_OK, err
    assert f"imported cnn.onnx: 11 nodes -> {tmp_path / 'cnn.dwire'}" in out
    network = load(tmp_path / "cnn.dwire").networks["model"]
    result = import_onnx(path)
    result.network, result.weights = network, read_weights(tmp_path / "w.safetensors")
    assert_same_as_onnxruntime(path, result)


@pytest.mark.parametrize(
    "argv, told",
    [
        (["{bad}"], "bad.onnx: not an ONNX model"),
        (["{good}", "-o", "{out}", "--load-weights", "w.pt"], "--load-weights is for PyTorch"),
        (["m.py:Net"], "name the project to write with -o"),
    ],
)
def test_cli_refuses_in_one_sentence(tmp_path, capsys, argv, told):
    good = export(Mlp(), (12,), tmp_path / "good.onnx")
    bad = _write(tmp_path / "bad.onnx", b"\x00garbage" * 10)
    out = tmp_path / "out.dwire"
    status = main([a.format(bad=bad, good=good, out=out) for a in ["import", *argv]])
    _, err = capsys.readouterr()
    assert status == EXIT_BAD_INPUT
    [sentence] = said(err)
    assert sentence.startswith("deepwire: ") and told in sentence and "Traceback" not in err
    assert not (tmp_path / "bad.dwire").exists() and not out.exists()


def test_a_crash_while_reading_is_worded_for_the_file():
    from engine.commands.importing import ended_sentence

    told = ended_sentence("models/net.onnx", -11)
    assert told.startswith("net.onnx: onnx or onnxruntime ended the process that read it (SIGSEGV)")
    assert "nothing was imported" in told and "model's code" not in told


def test_help_says_that_an_onnx_file_is_read_not_run(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "A .onnx file (from PyTorch, Keras through tf2onnx, any framework) is read, not run" in text
    )
