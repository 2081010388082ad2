"""The network model: edits, refusals with reasons, and events emitted only on change."""

import pytest

from engine.errors import NetworkError, ParamError
from engine.network import Network, Wire
from tests.engine.builders import mlp


class Recorder:
    """Collects every event a network emits as (name, args)."""

    def __init__(self, network):
        self.events = []
        for signal in network.events.signals():
            signal.connect(lambda *args, name=signal.name: self.events.append((name, args)))

    def names(self):
        return [name for name, _ in self.events]


def test_add_node_completes_defaults_and_suggests_ids():
    network = Network()
    first = network.add_node("Linear")
    second = network.add_node("Linear", {"out_features": 7})
    assert (first.id, second.id) == ("linear1", "linear2")
    assert first.params == {"out_features": 32, "bias": True}
    assert second.params["out_features"] == 7


def test_add_node_refuses_bad_values_with_reason():
    network = Network()
    with pytest.raises(ParamError, match="out_features must be at least 1"):
        network.add_node("Linear", {"out_features": 0})
    with pytest.raises(ParamError, match="whole number"):
        network.add_node("Linear", {"out_features": "ten"})
    with pytest.raises(ParamError, match="no parameter 'units'"):
        network.add_node("Linear", {"units": 3})
    with pytest.raises(NetworkError, match="unknown layer type 'Linaer'; did you mean Linear"):
        network.add_node("Linaer")
    assert len(network) == 0


@pytest.mark.parametrize("bad_id", ["class", "2fc", "fc-1", "", "to", "forward", "x" * 65, "_x"])
def test_ids_must_be_safe_python_names(bad_id):
    network = Network()
    with pytest.raises(NetworkError):
        network.add_node("ReLU", node_id=bad_id)


def test_duplicate_id_is_refused():
    network = Network()
    network.add_node("ReLU", node_id="act")
    with pytest.raises(NetworkError, match="already a node called 'act'"):
        network.add_node("ReLU", node_id="act")


def test_impossible_wires_are_refused_with_the_reason():
    network = mlp()
    with pytest.raises(NetworkError, match="already has a wire from input"):
        network.connect("relu2", "out", "linear1", "in")
    with pytest.raises(NetworkError, match="to itself"):
        network.connect("relu2", "out", "relu2", "in")
    with pytest.raises(NetworkError, match="no input port 'x'"):
        network.connect("relu2", "out", "linear3", "x")
    with pytest.raises(NetworkError, match="takes no input"):
        network.connect("relu2", "out", "input", "in")
    with pytest.raises(NetworkError, match="no output port"):
        network.connect("output", "out", "relu2", "in")
    with pytest.raises(NetworkError, match="no node 'ghost'"):
        network.connect("ghost", "out", "relu2", "in")


def test_events_are_emitted_once_and_only_on_real_change():
    network = Network()
    recorder = Recorder(network)
    network.add_node("Linear", node_id="fc")
    network.add_node("ReLU", node_id="act")
    network.connect("fc", "out", "act", "in")
    network.set_params("fc", {"out_features": 32})  # unchanged: no event
    network.move_node("fc", (0, 0))  # unchanged: no event
    network.set_trainable("fc", True)  # unchanged: no event
    network.set_params("fc", {"out_features": 16})
    network.move_node("fc", (10, 20))
    network.set_trainable("fc", False)
    network.rename_node("fc", "fc")  # unchanged
    network.rename_node("fc", "dense")
    network.remove_node("dense")
    assert recorder.names() == [
        "node_added",
        "node_added",
        "wired",
        "params_changed",
        "node_moved",
        "trainable_changed",
        "node_renamed",
        "unwired",
        "node_removed",
    ]
    _, (node_id, old, new) = recorder.events[3]
    assert (node_id, old["out_features"], new["out_features"]) == ("fc", 32, 16)


def test_rename_keeps_wires_and_order():
    network = mlp()
    network.rename_node("linear1", "hidden")
    assert [n.id for n in network.nodes] == ["input", "hidden", "relu2", "linear3", "output"]
    assert Wire("input", "out", "hidden", "in") in network.wires
    assert Wire("hidden", "out", "relu2", "in") in network.wires
    with pytest.raises(NetworkError, match="already a node called 'relu2'"):
        network.rename_node("hidden", "relu2")


def test_remove_node_returns_its_wires():
    network = mlp()
    removed = network.remove_node("relu2")
    assert removed == [Wire("linear1", "out", "relu2", "in"), Wire("relu2", "out", "linear3", "in")]
    assert "relu2" not in network
    assert len(network.wires) == 2


def test_disconnecting_a_missing_wire_is_refused():
    network = mlp()
    with pytest.raises(NetworkError, match="no wire"):
        network.disconnect(Wire("input", "out", "output", "in"))


def test_round_trip_through_dict_is_identical():
    network = mlp()
    network.set_trainable("linear1", False)
    network.move_node("relu2", (12.25, -3))
    data = network.to_dict()
    assert Network.from_dict(data).to_dict() == data
    assert data["nodes"][1]["trainable"] is False
    assert "trainable" not in data["nodes"][2]


def test_copy_is_independent():
    network = mlp()
    duplicate = network.copy()
    duplicate.set_params("linear1", {"out_features": 3})
    assert network.node("linear1").params["out_features"] == 32


def test_wire_order_follows_node_order_not_history():
    network = mlp()
    wire = network.wire_into("linear1", "in")
    network.disconnect(wire)
    network.connect(*[wire.src, wire.src_port, wire.dst, wire.dst_port])
    assert network.to_dict() == mlp().to_dict()
