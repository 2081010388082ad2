"""Import an ONNX model as a Deepwire network: ``import_onnx("model.onnx")``.

An ONNX graph from any framework (PyTorch, Keras through tf2onnx, ...) becomes an
editable network of catalogue layers with its weights. Reading a file runs no code of
its own: the file is parsed and checked (``reading``), its constants folded and its
nodes mapped onto layers (``mapping`` with the rules of ``plain``, ``weighted`` and
``patterns``), the network is built, laid out and given the weights (``building``).

Nothing is guessed silently. Every node that no layer can express is named, grouped by
cause, in one ``ImportModelError``; and the imported network is run beside onnxruntime
on a random batch, so an import that succeeds computes what the file computes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.importer import ImportModelError, ImportResult
from engine.progress import stage

SUFFIX = ".onnx"


def is_onnx(source: object) -> bool:
    """Whether ``source`` names an ONNX file (by its suffix)."""
    return isinstance(source, str | Path) and str(source).lower().endswith(SUFFIX)


def import_onnx(
    path: str | Path,
    input_shapes: Mapping[str, Sequence[int]] | Sequence[Sequence[int]] | None = None,
    name: str = "model",
    progress=None,
) -> ImportResult:
    """Turn the ONNX model in ``path`` into a network of catalogue layers.

    Args:
        path: the ``.onnx`` file (weights stored beside it are read from its folder).
        input_shapes: the shape of one sample of each input, without the batch, for
            inputs whose sizes the file leaves open: a list in input order or a dict by
            input name.
        name: the network's name.
        progress: called with ``engine.progress.Progress`` as each stage starts.

    Returns:
        The network, its weights keyed like the compiled network's state_dict, and the
        file's name as ``class_name``.

    Raises:
        ImportModelError: the file cannot be read, some nodes have no Deepwire layer
            (all named), or the network computes something else than onnxruntime does.
    """
    from engine.compile import compile_network
    from engine.onnx_import.building import (
        build_network,
        check_outputs,
        check_sizes,
        network_weights,
    )
    from engine.onnx_import.graph import OnnxGraph, inferred_shapes
    from engine.onnx_import.mapping import map_graph
    from engine.onnx_import.reading import fix_input_shapes, graph_inputs, read_model

    label = Path(path).name
    stage(progress, f"reading {label}")
    model = read_model(path)
    inputs = graph_inputs(model, input_shapes, label)
    fix_input_shapes(model, inputs)
    stage(progress, "inferring the graph's shapes")
    graph = OnnxGraph(model, inferred_shapes(model), inputs[0].batch)
    stage(progress, "mapping the graph's nodes onto layers")
    mapping = map_graph(graph, label)
    check_sizes(graph, label)
    stage(progress, "building the network")
    built = build_network(mapping, inputs, graph.outputs, name)
    _check_network(built.network, label)
    compiled = compile_network(built.network).eval()
    weights = network_weights(compiled, mapping, built)
    compiled.load_state_dict(weights, strict=True)
    stage(progress, "checking the outputs against onnxruntime")
    check_outputs(path, compiled, inputs, built, mapping, label)
    return ImportResult(built.network, weights, label)


def _check_network(network, label: str) -> None:
    from engine.analysis import analyze

    errors = analyze(network).errors
    if errors:
        raise ImportModelError(
            f"imported {label}, but the network does not check: {errors[0].message}"
        )


__all__ = ["ImportModelError", "ImportResult", "import_onnx", "is_onnx"]
