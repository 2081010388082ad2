"""Small networks the engine tests share, built through the public Network API."""

from engine.network import Network


def chain(*layers, input_shape=(64,), dtype="float32", name="model") -> Network:
    """Input -> layers... -> Output, each layer given as ``(type, params)`` or a type name."""
    network = Network(name)
    network.add_node("Input", {"shape": list(input_shape), "dtype": dtype}, node_id="input")
    previous = "input"
    for index, layer in enumerate(layers):
        type_name, params = (layer, {}) if isinstance(layer, str) else layer
        node_id = f"{type_name.lower()}{index + 1}"
        network.add_node(type_name, params, (200.0 * (index + 1), 0.0), node_id)
        network.connect(previous, "out", node_id, "in")
        previous = node_id
    network.add_node("Output", pos=(200.0 * (len(layers) + 1), 0.0), node_id="output")
    network.connect(previous, "out", "output", "in")
    return network


def mlp() -> Network:
    """The MLP of DESIGN.md: 64 -> 32 -> ReLU -> 10."""
    return chain(("Linear", {"out_features": 32}), "ReLU", ("Linear", {"out_features": 10}))


def graph(nodes, edges, name="model") -> Network:
    """A network from ``[(id, type, params)]`` and ``["a->b", "c->d.in2"]`` wires."""
    network = Network(name)
    for index, (node_id, type_name, params) in enumerate(nodes):
        network.add_node(type_name, params, (200.0 * index, 0.0), node_id)
    for edge in edges:
        src, dst = edge.split("->")
        dst_id, _, port = dst.partition(".")
        network.connect(src, "out", dst_id, port or "in")
    return network
