"""Importing PyTorch models: hand-written files, generated code, and what cannot be mapped."""

import json
import re
import sys
import textwrap

import networkx as nx
import pytest
import torch

from engine.analysis import analyze
from engine.codegen import generate_code
from engine.compile import compile_network
from engine.edits.blocks import flattened
from engine.import_rules import PATTERNS, CatalogueIndex
from engine.importer import ImportModelError, import_model
from engine.layers import CATALOGUE
from engine.layers.spec import Call, LayerSpec
from engine.network import Network
from engine.weights import load_weights
from tests.engine.test_export_networks import NETWORKS, as_tuple, sample_inputs

HAND_WRITTEN = textwrap.dedent(
    """
    import torch
    import torch.nn.functional as F
    from torch import nn


    class Block(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = nn.Linear(width, width)
            self.norm = nn.LayerNorm(width)

        def forward(self, x):
            return self.norm(x + F.dropout(F.relu(self.fc(x)), 0.1, self.training))


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 4, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )
            self.side = nn.Conv2d(1, 2, kernel_size=2, stride=2)
            self.block = Block(24)
            self.rnn = nn.LSTM(6, 5, batch_first=True)
            self.head = nn.Linear(5, 3)

        def forward(self, image):
            a = self.features(image)
            b = torch.tanh(self.side(image))
            x = torch.cat([a, b], dim=1)
            x = x.reshape(-1, 6, 16)
            x = x.flatten(2)
            x = self.block(x.reshape(-1, 4, 24))
            out, _ = self.rnn(x.reshape(-1, 16, 6))
            return torch.softmax(self.head(out[:, -1]), dim=1)


    def make_net():
        return Net()


    def make_list():
        return []
    """
)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(HAND_WRITTEN)
    return path


def _by_type(network):
    return {node.id: node.type for node in network.nodes}


def test_a_hand_written_model_becomes_catalogue_layers(model_file):
    result = import_model(f"{model_file}:Net", input_shapes=[(1, 8, 8)])
    network = result.network
    types = _by_type(network)
    assert types["image"] == "Input" and network.node("image").params["shape"] == (1, 8, 8)
    assert types["features_0"] == "Conv2d" and types["features_1"] == "ReLU"
    assert types["side"] == "Conv2d" and types["block"] == "Block"  # its module: a block
    inside = network.library.get("Block").network
    assert [(n.id, n.type) for n in inside.nodes] == [
        ("x", "Input"), ("fc", "Linear"), ("relu", "ReLU"), ("dropout", "Dropout"),
        ("add", "Add"), ("norm", "LayerNorm"), ("out", "Output"),
    ]  # fmt: skip
    assert inside.node("dropout").params["p"] == 0.1
    assert sorted(types.values()).count("Reshape") == 3
    assert {"Concat", "Tanh", "Flatten", "Softmax", "Output"} <= set(types.values())
    conv = network.node("features_0").params
    assert (conv["out_channels"], conv["kernel_size"], conv["padding"]) == (4, 3, 1)
    assert network.node("features_2").params["stride"] is None
    assert network.node("side").params["stride"] == 2
    assert network.node("rnn").params["hidden_size"] == 5
    assert network.node("rnn").params["output"] == "last"
    assert not analyze(network).errors
    # laid out left to right: every wire goes to a column further right
    for wire in network.wires:
        assert network.node(wire.src).pos[0] < network.node(wire.dst).pos[0]


def test_imported_weights_reproduce_the_model(model_file, tmp_path):
    sys.path.insert(0, str(tmp_path))
    try:
        model = __import__("net").Net().eval()
    finally:
        sys.path.remove(str(tmp_path))
    result = import_model(model, input_shapes=[(1, 8, 8)])
    compiled = load_weights(compile_network(result.network), result.weights).eval()
    image = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(compiled(image), model(image))


def test_the_model_own_weights_are_loaded_first(model_file, tmp_path):
    sys.path.insert(0, str(tmp_path))
    try:
        state = __import__("net").Net().state_dict()
    finally:
        sys.path.remove(str(tmp_path))
    state = {key: torch.full_like(value, 0.25) for key, value in state.items()}
    torch.save(state, tmp_path / "trained.pt")
    result = import_model(
        f"{model_file}:Net", input_shapes=[(1, 8, 8)], model_weights=tmp_path / "trained.pt"
    )
    assert torch.equal(result.weights["features_0.weight"], state["features.0.weight"])
    assert torch.equal(result.weights["rnn.weight_hh_l0"], state["rnn.weight_hh_l0"])
    del state["head.bias"]
    told = "do not fit this model Net (1 problem(s)): head: bias is missing from the file"
    with pytest.raises(ImportModelError, match=re.escape(told)):
        import_model(f"{model_file}:Net", input_shapes=[(1, 8, 8)], model_weights=state)


def test_an_importable_module_path_works(tmp_path, monkeypatch):
    package = tmp_path / "mymodels"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(HAND_WRITTEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = import_model("mymodels.nets:Net", input_shapes={"image": (1, 8, 8)})
    assert result.class_name == "Net" and "features_0" in result.network


def test_example_inputs_give_shapes_and_dtypes():
    result = import_model(
        _from_code(NETWORKS["sequence"]()), example_inputs=[torch.zeros(1, 6, dtype=torch.long)]
    )
    tokens = result.network.node("tokens").params
    assert tokens["shape"] == (6,) and tokens["dtype"] == "int64"


def _from_code(network):
    """The class that ``deepwire code`` prints for ``network``."""
    namespace = {}
    exec(compile(generate_code(network), f"<{network.name}>", "exec"), namespace)
    return namespace["Model"]


def _shapes(network):
    return [tuple(n.params["shape"]) for n in network.nodes if n.type == "Input"]


def _canonical(network):
    """A graph whose nodes carry type, params and, where code keeps it, the id."""
    graph = nx.DiGraph()
    for node in network.nodes:
        keeps_id = node.spec.module is not None or node.type == "Input"
        params = json.dumps(network.to_dict()["nodes"][network.nodes.index(node)]["params"])
        graph.add_node(node.id, label=(node.type, params, node.id if keeps_id else None))
    for wire in network.wires:
        graph.add_edge(wire.src, wire.dst, ports=(wire.src_port, wire.dst_port))
    return graph


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_generated_code_imports_back_to_the_same_network(name):
    network = NETWORKS[name]()
    result = import_model(_from_code(network), input_shapes=_shapes(network), name=network.name)
    same = nx.is_isomorphic(
        _canonical(flattened(network)),  # blocks compared by their insides
        _canonical(flattened(result.network)),
        node_match=lambda a, b: a["label"] == b["label"],
        edge_match=lambda a, b: a["ports"] == b["ports"],
    )
    assert same
    if name == "blocks":  # its classes come back as block types, shared as before
        assert [n.type for n in result.network.nodes if n.is_block] == ["Residual", "Residual"]
        assert result.network.library.names() == ["ConvAct", "Residual"]
    if name in ("mlp", "cnn"):
        strip = lambda d: [{k: v for k, v in n.items() if k != "pos"} for n in d["nodes"]]  # noqa: E731
        assert strip(result.network.to_dict()) == strip(network.to_dict())
    compiled = load_weights(compile_network(result.network), result.weights).eval()
    original = _from_code(network)()
    original.load_state_dict(_nested(original, result.weights), strict=True)  # ids are kept
    inputs = sample_inputs(network, 3)
    with torch.no_grad():
        for want, have in zip(as_tuple(original.eval()(*inputs)), as_tuple(compiled(*inputs))):
            torch.testing.assert_close(have, want)


def _nested(model, weights: dict) -> dict:
    """Flat imported weights (``residual_conv.weight``) under the generated model's
    nested keys (``residual.conv.weight``): a block's modules import flattened."""
    nested = {}
    for key in model.state_dict():
        path, _, name = key.rpartition(".")
        nested[key] = (
            weights[key] if key in weights else weights[f"{path.replace('.', '_')}.{name}"]
        )
    return nested


def _example_network(spec, example):
    network = Network("m")
    dtype = "int64" if spec.input_dtype == "long" else "float32"
    for index, shape in enumerate(example.inputs, start=1):
        network.add_node("Input", {"shape": list(shape), "dtype": dtype}, node_id=f"x{index}")
    network.add_node(spec.name, example.params, node_id="layer")
    for index, port in enumerate(network.node("layer").input_ports(), start=1):
        network.connect(f"x{index}", "out", "layer", port)
    network.add_node("Output", node_id="output")
    network.connect("layer", "out", "output", "in")
    return network


_EXAMPLES = [
    (spec, example, f"{spec.name}-{index}")
    for spec in CATALOGUE.values()
    if spec.role == "layer"
    for index, example in enumerate(spec.examples)
]


@pytest.mark.parametrize("spec, example", [e[:2] for e in _EXAMPLES], ids=[e[2] for e in _EXAMPLES])
def test_every_catalogue_example_survives_code_and_import(spec, example):
    network = _example_network(spec, example)
    result = import_model(_from_code(network), input_shapes=list(example.inputs))
    imported = result.network
    assert [n.type for n in imported.nodes if n.type not in ("Input", "Output")] == [spec.name]
    layer = next(n for n in imported.nodes if n.type == spec.name)
    for param in spec.params:
        if param.kind != "shape":  # code resolves a -1 size, so shapes may come back filled in
            assert layer.params[param.name] == network.node("layer").params[param.name], param.name
    assert analyze(imported).shapes[layer.id] == analyze(network).shapes["layer"]


def test_every_layer_type_says_how_it_is_imported():
    missing = [
        spec.name
        for spec in CATALOGUE.values()
        if spec.role == "layer" and not (spec.module_names() or spec.calls or spec.name in PATTERNS)
    ]
    assert not missing, (
        f"deepwire import cannot make {', '.join(missing)}: give each LayerSpec `modules` "
        "(the torch.nn classes it is read from) or `calls` (the functions and tensor "
        "methods it matches)"
    )
    CatalogueIndex(CATALOGUE)  # every function named exists, none imports as two types


@pytest.mark.parametrize(
    "calls, message",
    [
        ((Call(("torch.nn.functional.rleu",)),), "Mine matches torch.nn.functional.rleu, which"),
        ((Call(methods=("relu",)),), "method .relu() imports as both ReLU and Mine"),
    ],
)
def test_a_wrong_reverse_mapping_is_named(calls, message):
    mine = LayerSpec("Mine", "Activation", "A test layer.", lambda p, i: i[0], calls=calls)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        CatalogueIndex({**CATALOGUE, "Mine": mine})


TENSOR_CODE = textwrap.dedent(
    """
    import torch
    import torch.nn.functional as F
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(2, 4, 3, stride=2, padding=1)
            self.up = nn.Conv2d(4, 2, 1)

        def forward(self, x):
            y = self.up(self.down(x))
            y = F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)
            tokens = (x + y).flatten(2).transpose(1, 2)
            pooled = tokens.permute(0, 2, 1).mean(-1)
            return torch.stack([pooled, pooled.relu()], 1)
    """
)


def test_tensor_operations_written_by_hand_import(tmp_path):
    (tmp_path / "ops.py").write_text(TENSOR_CODE)
    result = import_model(f"{tmp_path / 'ops.py'}:Net", input_shapes=[(2, 6, 6)])
    types = sorted(n.type for n in result.network.nodes)
    assert types.count("Interpolate") == 1 and types.count("Stack") == 1
    assert {"Flatten", "Transpose", "Permute", "Mean", "Add", "ReLU"} <= set(types)
    resize = next(n for n in result.network.nodes if n.type == "Interpolate")
    assert resize.params["match_input"] and resize.params["mode"] == "bilinear"
    assert [w.src for w in result.network.wires if w.dst == resize.id][1] == "x"


def test_sizes_computed_from_one_tensor_resize_to_it_and_others_become_numbers(tmp_path):
    for size, match_input in (
        ("(x.shape[2] // 2 * 2, x.shape[3])", True),
        ("(x.shape[2], 6)", False),
    ):
        code = TENSOR_CODE.replace("size=x.shape[2:]", f"size={size}")
        (tmp_path / "ops.py").write_text(code)
        result = import_model(f"{tmp_path / 'ops.py'}:Net", input_shapes=[(2, 6, 6)])
        resize = next(n for n in result.network.nodes if n.type == "Interpolate")
        assert resize.params["match_input"] is match_input, size
        if not match_input:
            assert resize.params["size"] == (6, 6)


def test_a_class_only_named_like_a_deepwire_module_is_read_as_code(tmp_path):
    (tmp_path / "own.py").write_text(
        "from torch import nn\n"
        "class Scale(nn.Module):\n"
        "    def __init__(self, num_features=4, dim=1, init=1.0):\n"
        "        super().__init__()\n"
        "        self.dim = dim\n"
        "    def forward(self, x):\n"
        "        return x * 2\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.scale = Scale()\n"
        "    def forward(self, x):\n"
        "        return self.scale(x)\n"
    )
    with pytest.raises(ImportModelError, match=re.escape("_operator.mul with a constant: 1 call")):
        import_model(f"{tmp_path / 'own.py'}:Net", input_shapes=[(4,)])


UNMAPPABLE = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.cell = nn.GRUCell(4, 4)
            self.temperature = nn.Parameter(torch.tensor(2.0))

        def forward(self, x):
            x = torch.sin(self.fc(x))
            x = self.cell(x) / self.temperature
            return x.cumsum(dim=1)
    """
)


SHARED = textwrap.dedent(
    """
    from torch import nn


    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.fc(self.act(self.fc(x))))
    """
)


def test_a_module_used_twice_is_fine_without_weights_and_refused_with_them(tmp_path):
    (tmp_path / "shared.py").write_text(SHARED)
    with pytest.raises(ImportModelError) as caught:
        import_model(f"{tmp_path / 'shared.py'}:Shared", input_shapes=[(4,)])
    assert "shared weights (one module called twice): 1 module (fc)" in str(caught.value)
    (tmp_path / "shared.py").write_text(SHARED.replace("self.fc(self.act(", "(self.act("))
    result = import_model(f"{tmp_path / 'shared.py'}:Shared", input_shapes=[(4,)])
    assert [n.type for n in result.network.nodes].count("ReLU") == 2


def test_everything_unmappable_is_named_in_one_error(tmp_path):
    path = tmp_path / "odd.py"
    path.write_text(UNMAPPABLE)
    with pytest.raises(ImportModelError) as caught:
        import_model(f"{path}:Odd", input_shapes=[(4,)])
    message = str(caught.value)
    for part in (
        "function torch.sin: 1 call (sin)",
        "torch.nn.modules.rnn.GRUCell: 1 module (cell)",
        "a tensor used outside a module: 1 tensor (temperature)",
        "method .cumsum(): 1 call (cumsum)",
    ):
        assert part in message


MANY_UNMAPPED = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Wave(nn.Module):
        def forward(self, x):
            return torch.sin(x)


    class Many(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.waves = nn.Sequential(*[Wave() for _ in range(40)])
            self.cells = nn.ModuleList([nn.GRUCell(4, 4) for _ in range(30)])

        def forward(self, x):
            x = self.fc(self.fc(self.fc(self.waves(x))))
            for cell in self.cells:
                x = cell(x)
            return x
    """
)


def test_unmappable_calls_are_grouped_by_cause_with_counts_and_examples(tmp_path):
    (tmp_path / "many.py").write_text(MANY_UNMAPPED)
    with pytest.raises(ImportModelError) as caught:
        import_model(f"{tmp_path / 'many.py'}:Many", input_shapes=[(4,)])
    message = str(caught.value)
    assert message == (
        "cannot import Many: no Deepwire layer for function torch.sin: 40 calls, e.g. "
        "waves.0:sin, waves.1:sin_1, waves.2:sin_2; torch.nn.modules.rnn.GRUCell: 30 modules, "
        "e.g. cells.0, cells.1, cells.2; shared weights (one module called twice): 1 module (fc)"
    )


@pytest.mark.parametrize(
    "code, call, message",
    [
        ("nn.Linear(4, 4, bias=False)", "self.layer(x)", None),
        ("nn.LSTM(4, 3)", "self.layer(x)[0]", "batch_first is False, Deepwire's layer uses True"),
        ("nn.LSTM(4, 3, batch_first=True)", "self.layer(x)", "final states"),
        ("nn.Linear(4, 4, dtype=torch.float64)", "self.layer(x)", "torch.float64"),
    ],
)
def test_settings_deepwire_cannot_express_are_refused(tmp_path, code, call, message):
    source = textwrap.dedent(
        f"""
        import torch
        from torch import nn

        class One(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = {code}

            def forward(self, x):
                return {call}
        """
    )
    (tmp_path / "one.py").write_text(source)
    if message is None:
        result = import_model(f"{tmp_path / 'one.py'}:One", input_shapes=[(2, 4)])
        assert result.network.node("layer").params["bias"] is False
        return
    with pytest.raises(ImportModelError, match=re.escape(message)):
        import_model(f"{tmp_path / 'one.py'}:One", input_shapes=[(2, 4)])


@pytest.mark.parametrize(
    "source, message",
    [
        ("missing.py:Net", "no such file"),
        ("{file}:Nope", "has no class or function Nope (it defines: Block, Net)"),
        ("{file}", "file.py:ClassName"),
        ("torch.nn:Linear", "Linear() failed (TypeError"),
        ("torch.nn.functional:relu", "the function must be callable without arguments"),
        ("math:pi", "pi is not a torch.nn.Module class or a function that makes one"),
        ("collections:OrderedDict", "OrderedDict is not a torch.nn.Module class"),
        ("{file}:make_list", "make_list() returned a list, not a torch.nn.Module"),
        ("no_such_package_xyz:Net", "cannot import no_such_package_xyz"),
    ],
)
def test_bad_sources_give_a_sentence(model_file, source, message):
    with pytest.raises(ImportModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_model(source.format(file=model_file), input_shapes=[(1, 8, 8)])


def test_a_function_that_makes_the_model_imports_like_its_class(model_file):
    from_class = import_model(f"{model_file}:Net", input_shapes=[(1, 8, 8)])
    from_function = import_model(f"{model_file}:make_net", input_shapes=[(1, 8, 8)])
    assert from_function.class_name == "Net"
    assert _by_type(from_function.network) == _by_type(from_class.network)


def test_missing_input_shape_names_the_input(model_file):
    with pytest.raises(ImportModelError, match=r"\(image\)"):
        import_model(f"{model_file}:Net")


def test_a_wrong_input_shape_is_reported(model_file):
    with pytest.raises(ImportModelError) as caught:
        import_model(f"{model_file}:Net", input_shapes=[(3, 8, 8)])
    message = str(caught.value)
    assert "Conv2d (expects in_channels 1 but gets 3 from the input shape" in message
    assert "2 modules (features.0, side)" in message


def _refusal(tmp_path, source: str, name: str, shape) -> str:
    """The sentence that refuses the model class ``name`` defined by ``source``."""
    (tmp_path / "model.py").write_text(source)
    with pytest.raises(ImportModelError) as caught:
        import_model(f"{tmp_path / 'model.py'}:{name}", input_shapes=[shape])
    return str(caught.value)


def test_layers_that_differ_alike_are_grouped(tmp_path):
    source = (
        "import torch\n"
        "class Wide(torch.nn.Sequential):\n"
        "    def __init__(self):\n"
        "        super().__init__(*[torch.nn.Linear(4, 4).double() for _ in range(10)])\n"
    )
    assert _refusal(tmp_path, source, "Wide", (4,)) == (
        "cannot import Wide: Deepwire's layers differ for Linear (its tensor bias is "
        "torch.float64, Deepwire's layer uses torch.float32): 10 modules, e.g. 0, 1, 2"
    )


def test_data_dependent_control_flow_cannot_be_traced(tmp_path):
    source = (
        "import torch\n"
        "class Branchy(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        return x if x.sum() > 0 else -x\n"
    )
    message = _refusal(tmp_path, source, "Branchy", (2,))
    assert message.startswith("cannot trace Branchy: model.py:4 `return x if x.sum() > 0 else -x`")
    assert "branches on a tensor's values or sizes" in message


def test_arguments_with_defaults_that_are_not_inputs_keep_their_defaults(tmp_path):
    (tmp_path / "masked.py").write_text(
        "import torch\n"
        "class Masked(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = torch.nn.Linear(4, 4)\n"
        "    def forward(self, x, mask=None, causal=False):\n"
        "        if mask is not None:\n"
        "            x = x * mask\n"
        "        if causal:\n"
        "            x = x.cumsum(1)\n"
        "        return self.fc(x)\n"
    )
    result = import_model(f"{tmp_path / 'masked.py'}:Masked", input_shapes=[(4,)])
    assert [n.type for n in result.network.nodes] == ["Input", "Linear", "Output"]
    both = import_model(f"{tmp_path / 'masked.py'}:Masked", input_shapes=[(4,), (4,)])
    assert [n.type for n in both.network.nodes].count("Input") == 2  # mask given: an input
