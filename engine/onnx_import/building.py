"""Build the Deepwire network of a mapped ONNX graph, copy its weights and check it.

Node ids come from the ONNX node names (``/layer1/layer1.0/conv1/Conv`` ->
``layer1_0_conv1``), Inputs from the graph's input names, Outputs are ``output`` (or
``output1``, ``output2`` ...). The weights are keyed like the compiled network's
state_dict; every tensor must fit its layer's shape. The network then runs beside
onnxruntime on one random batch: an import succeeds only when every output agrees within
``engine.importer.TOLERANCE``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from engine.errors import DeepwireError
from engine.import_report import shorten
from engine.importer import TOLERANCE, ImportModelError
from engine.naming import check_id
from engine.network import Network
from engine.onnx_import.mapping import Mapping
from engine.onnx_import.reading import GraphInput
from engine.weights import first_line

BUFFERS = ("num_batches_tracked",)  # torch state that ONNX does not hold
MAX_CHECKED = 2**28  # numbers in one tensor of the checking batch (1 GiB of float32)


@dataclass
class Built:
    """A built network and where the graph's parts went in it.

    Attributes:
        network: the laid-out network.
        layer_ids: the node id of each mapped layer, by ``id(layer)``.
        input_ids: the Input node id of each graph input that is used, by input name.
    """

    network: Network
    layer_ids: dict[int, str]
    input_ids: dict[str, str]


def build_network(mapping: Mapping, inputs: list[GraphInput], outputs: list[str], name: str):
    """The ``Built`` network of ``mapping``, laid out, its Outputs in ``outputs`` order."""
    from engine.layout import lay_out

    network, source, ids = Network(name), {}, {}
    used = {mapping.resolve(v) for layer in mapping.layers for v in layer.inputs}
    used |= {mapping.resolve(v) for v in outputs}
    for graph_input in inputs:
        if graph_input.name in used:
            params = {"shape": list(graph_input.shape), "dtype": graph_input.dtype}
            source[graph_input.name] = _add(network, "Input", params, graph_input.name)
    for layer in mapping.layers:
        ids[id(layer)] = source[layer.output] = _add(network, layer.type, layer.params, layer.name)
    for index, value in enumerate(outputs, start=1):
        out_id = _add(network, "Output", {}, "output" if len(outputs) == 1 else f"output{index}")
        network.connect(_source(source, mapping, value), "out", out_id, "in")
    for layer in mapping.layers:
        node = network.node(ids[id(layer)])
        for port, value in zip(node.input_ports(), layer.inputs):
            network.connect(_source(source, mapping, value), "out", node.id, port)
    lay_out(network)
    input_ids = {i.name: source[i.name] for i in inputs if i.name in source}
    return Built(network, ids, input_ids)


def _add(network: Network, type_name: str, params: dict, onnx_name: str) -> str:
    base = _id_base(onnx_name) or type_name.lower()
    try:
        node_id = check_id(base)
    except DeepwireError:
        node_id = network.suggest_id(base)
    if node_id in network:
        node_id = network.suggest_id(node_id)
    network.add_node(type_name, params, node_id=node_id, check=False)
    return node_id


def _id_base(onnx_name: str) -> str:
    """``/layer1/layer1.0/conv1/Conv`` -> ``layer1_0_conv1``; ``/Relu_1`` -> ``relu_1``."""
    parts = [p for p in re.split(r"[/:]", onnx_name) if p]
    if len(parts) > 1:
        parts = parts[:-1]  # the last part names the operation, the rest the module
    scope: list[str] = []
    for part in parts:
        if scope and part.startswith(scope[-1] + "."):
            scope[-1] = part  # torch repeats the parent: layer1 / layer1.0
        else:
            scope.append(part)
    base = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(scope)).strip("_").lower()
    return base.removeprefix("node_")


def _source(source: dict, mapping: Mapping, value: str) -> str:
    resolved = mapping.resolve(value)
    if resolved not in source:
        raise ImportModelError(
            f"the value {value[:60]!r} is a constant where Deepwire needs a computed tensor "
            "(an output, or the input of a layer)"
        )
    return source[resolved]


def network_weights(compiled, mapping: Mapping, built: Built) -> dict:
    """The layers' tensors keyed like ``compiled``'s state_dict, each checked for shape."""
    import torch

    template = compiled.state_dict()
    weights = {}
    for layer in mapping.layers:
        for key, array in layer.weights.items():
            name = f"{built.layer_ids[id(layer)]}.{key}"
            tensor = torch.from_numpy(np.array(array, dtype=np.float32))  # a copy: tied weights
            expected = template.get(name)
            if expected is None or tuple(expected.shape) != tuple(tensor.shape):
                wanted = "no such tensor" if expected is None else tuple(expected.shape)
                raise ImportModelError(
                    f"{layer.name[:60]}: its {key} has the shape {tuple(tensor.shape)}, but "
                    f"Deepwire's {layer.type} expects {wanted}"
                )
            weights[name] = tensor
    for name, value in template.items():
        if name not in weights and name.rsplit(".", 1)[-1] in BUFFERS:
            weights[name] = value.clone()
    return weights


def check_sizes(graph, label: str) -> None:
    """Refuse a graph whose checking batch would need a tensor larger than MAX_CHECKED."""
    for value, shape in graph.shapes.items():
        if graph.constant(value) is None and math.prod(shape) > MAX_CHECKED:
            raise ImportModelError(
                f"{label}: {shorten(value)} would hold {math.prod(shape):,} numbers, too many "
                f"to check the import with (at most {MAX_CHECKED:,})"
            )


def check_outputs(path, compiled, inputs: list[GraphInput], built: Built, mapping, label):
    """Run onnxruntime and the network on one random batch; refuse if they differ."""
    import torch

    feeds = example_feeds(inputs, mapping)
    expected = _run_onnxruntime(path, feeds, label)
    by_id = {node_id: name for name, node_id in built.input_ids.items()}
    order = [node.id for node in built.network.nodes if node.id in by_id]
    with torch.no_grad():
        got = compiled(*(torch.from_numpy(feeds[by_id[node_id]]) for node_id in order))
    got = list(got) if isinstance(got, tuple | list) else [got]
    for index, (theirs, mine) in enumerate(zip(expected, got), start=1):
        mine = mine.numpy()
        if theirs.shape != mine.shape or not np.allclose(
            mine, theirs, atol=TOLERANCE, rtol=TOLERANCE, equal_nan=True
        ):
            raise ImportModelError(
                f"the imported network computes output {index} differently from {label} "
                "(checked with onnxruntime); this model uses something Deepwire does not "
                "reproduce"
            )


def example_feeds(inputs: list[GraphInput], mapping: Mapping) -> dict[str, np.ndarray]:
    """One random batch for every graph input; ids within every Embedding's table."""
    generator = np.random.default_rng(0)
    feeds = {}
    for graph_input in inputs:
        size = (graph_input.batch, *graph_input.shape)
        if graph_input.dtype == "int64":
            tables = [
                layer.params["num_embeddings"]
                for layer in mapping.layers
                if layer.type == "Embedding"
                and mapping.resolve(layer.inputs[0]) == graph_input.name
            ]
            feeds[graph_input.name] = generator.integers(0, min(tables, default=1), size)
        else:
            feeds[graph_input.name] = generator.standard_normal(size).astype(np.float32)
    return feeds


def _run_onnxruntime(path, feeds: dict, label: str) -> list[np.ndarray]:
    """onnxruntime's outputs, reading the file itself (no in-memory copy of the weights)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: the sentence below says what failed
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        return session.run(None, feeds)
    except Exception as error:  # onnxruntime fails in many ways on a model it cannot run
        raise ImportModelError(
            f"onnxruntime cannot run {label} ({first_line(error)}), so the import cannot be "
            "checked and nothing was imported"
        ) from None
