"""Property test: random networks drawn from the whole catalogue.

Hypothesis builds chains and DAGs (merge layers take any earlier nodes) with random
parameters within each Param's range and random Input shapes and dtypes. Whatever it
draws, ``analyze`` must not raise; a network with errors must be refused with a
CompileError; a network without errors must compile, and its real outputs on a batch
of 2 (train and eval mode) must have the shapes and dtypes the analysis inferred, and
the generated standalone code must compute the same outputs.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.analysis import analyze
from engine.codegen import generate_code
from engine.compile import compile_network, input_specs, output_ids
from engine.errors import CompileError
from engine.layers import CATALOGUE
from engine.network import Network

LAYERS = [spec for spec in CATALOGUE.values() if spec.role == "layer"]
MAX_EXAMPLES = 150
SPAN = 6  # how far above its minimum an unbounded int may go: keeps tensors tiny


def _int(param):
    low = -3 if param.minimum is None else int(param.minimum)
    high = low + SPAN if param.maximum is None else min(int(param.maximum), low + SPAN)
    return st.integers(low, high)


def _float(param):
    low = -2.0 if param.minimum is None else param.minimum
    high = low + 3.0 if param.maximum is None else param.maximum
    return st.floats(low, high, allow_nan=False)


def param_values(param):
    """Values of ``param`` within its type and range."""
    kind = param.kind
    if kind == "bool":
        values = st.booleans()
    elif kind == "choice":
        values = st.sampled_from(param.choices)
    elif kind == "int":
        values = _int(param)
    elif kind == "float":
        values = _float(param)
    elif kind == "shape":
        low = 1 if param.minimum is None else int(param.minimum)
        values = st.lists(st.integers(low, 6), min_size=1, max_size=3)
    else:
        number = _int(param) if kind == "int_or_tuple" else _float(param)
        values = st.one_of(number, st.tuples(*[number] * param.length))
        if param.choices:
            values = st.one_of(values, st.sampled_from(param.choices))
    if param.optional:
        values = st.one_of(st.none(), values)
    return st.one_of(st.just(param.default), values)


@st.composite
def layer_params(draw, spec):
    """Defaults, an example's params, or random values, mixed per parameter."""
    base = spec.defaults()
    if spec.examples and draw(st.booleans()):
        base.update(draw(st.sampled_from(spec.examples)).params)
    for param in spec.params:
        if draw(st.integers(0, 2)) == 0:
            base[param.name] = draw(param_values(param))
    return base


@st.composite
def input_shapes(draw):
    """A random shape, or the example input of some layer type."""
    if draw(st.booleans()):
        spec = draw(st.sampled_from(LAYERS))
        return draw(st.sampled_from(spec.examples)).inputs[0]
    rank = draw(st.integers(1, 3))
    return tuple(draw(st.lists(st.integers(1, 8), min_size=rank, max_size=rank)))


@st.composite
def networks(draw):
    """A random DAG: 1-2 Inputs, 1-6 layers wired to earlier nodes, 1-2 Outputs."""
    network = Network("random")
    nodes = []
    for number in range(draw(st.integers(1, 2))):
        dtype = draw(st.sampled_from(["float32", "float32", "float32", "int64"]))
        shape = draw(input_shapes())
        node_id = f"x{number}"
        network.add_node("Input", {"shape": list(shape), "dtype": dtype}, node_id=node_id)
        nodes.append(node_id)
    for number in range(draw(st.integers(1, 6))):
        nodes.append(draw(_layer(network, nodes, f"n{number}")))
    sources = [nodes[-1]]
    if draw(st.booleans()):
        sources.append(draw(st.sampled_from(nodes)))
    for number, source in enumerate(sources):
        network.add_node("Output", node_id=f"y{number}")
        network.connect(source, "out", f"y{number}", "in")
    return network


@st.composite
def _layer(draw, network, nodes, node_id, tries=4):
    """Add a random layer fed by earlier nodes; redraw (up to ``tries``) when it errs.

    Redrawing steers towards networks that analyse cleanly, so that compilation and
    the forward pass are exercised as often as the diagnostics.
    """
    for attempt in range(tries):
        spec = draw(st.sampled_from(_fitting(network, nodes[-1])))
        node = network.add_node(spec.name, draw(layer_params(spec)), node_id=node_id)
        for port in node.input_ports():
            source = draw(st.one_of(st.just(nodes[-1]), st.sampled_from(nodes)))
            network.connect(source, "out", node.id, port)
        errors = [d for d in analyze(network).errors if d.node == node_id]
        if attempt == tries - 1 or not errors:
            return node_id
        network.remove_node(node_id)
    return node_id


def _fitting(network, node_id):
    """Layer types with an example of the rank ``node_id`` outputs (all when unknown)."""
    shape = analyze(network).shapes.get(node_id)
    if shape is None:
        return LAYERS
    fitting = [s for s in LAYERS if any(len(e.inputs[0]) == len(shape) for e in s.examples)]
    return fitting or LAYERS


def _batch(network, analysis):
    tensors = []
    for _, shape, dtype in input_specs(network, analysis):
        if dtype == "long":  # id 0 is valid for any Embedding
            tensors.append(torch.zeros((2, *shape), dtype=torch.long))
        else:
            tensors.append(torch.randn((2, *shape)))
    return tensors


def _check_outputs(network, analysis, results):
    results = results if isinstance(results, tuple) else (results,)
    for node_id, tensor in zip(output_ids(network), results, strict=True):
        assert tuple(tensor.shape) == (2, *analysis.shapes[node_id]), node_id
        dtype = torch.long if analysis.dtypes[node_id] == "long" else torch.float32
        assert tensor.dtype == dtype, node_id


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(networks())
def test_random_networks_analyse_compile_and_run_as_inferred(network):
    analysis = analyze(network)
    if analysis.errors:
        event("refused with a diagnostic")
        with pytest.raises(CompileError):
            compile_network(network, analysis)
        return
    event("compiled and run")
    module = compile_network(network, analysis)
    inputs = _batch(network, analysis)
    _check_outputs(network, analysis, module(*inputs))
    module.eval()
    with torch.no_grad():
        results = module(*inputs)
        _check_outputs(network, analysis, results)
        _check_generated_code(network, module, inputs, results)


def _check_generated_code(network, module, inputs, results):
    """The exported file, given the same weights, computes the same outputs."""
    namespace = {"__name__": "deepwire_generated"}
    exec(compile(generate_code(network), "<generated>", "exec"), namespace)
    standalone = namespace["Model"]()
    standalone.load_state_dict(module.state_dict(), strict=True)
    torch.testing.assert_close(standalone.eval()(*inputs), results)
