"""Loading weights: all or nothing, mismatches named by node, no code ever unpickled."""

import json
import os
import pickle

import pytest
import torch
from safetensors.torch import save_file

from engine import project
from engine.compile import compile_network
from engine.errors import ProjectError
from engine.export import export
from engine.weights import WeightsError, load_weights, read_weights, save_weights
from tests.engine.builders import chain
from tests.engine.test_export_networks import NETWORKS


def _snapshot(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def _unchanged(module, snapshot):
    state = module.state_dict()
    return state.keys() == snapshot.keys() and all(
        torch.equal(state[k], snapshot[k]) for k in state
    )


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_saved_weights_load_back_into_a_fresh_module(tmp_path, suffix):
    network = NETWORKS["sequence"]()
    torch.manual_seed(1)
    source = compile_network(network)
    target = compile_network(network)
    save_weights(source, tmp_path / f"w{suffix}")
    load_weights(target, tmp_path / f"w{suffix}")
    assert _unchanged(target, source.state_dict())


def test_mismatches_are_named_by_node_and_nothing_is_loaded(tmp_path):
    trained = compile_network(
        chain(("Linear", {"out_features": 32}), "ReLU", ("Linear", {"out_features": 10}))
    )
    state = trained.state_dict()
    state["linear3.weight"] = torch.zeros(10, 99)  # wrong shape
    del state["linear3.bias"]  # missing
    state["extra.weight"] = torch.zeros(2)  # unknown node
    state["linear1.running_mean"] = torch.zeros(2)  # tensor the node lacks
    save_file(state, tmp_path / "bad.safetensors")
    module = compile_network(NETWORKS["mlp"]())
    before = _snapshot(module)
    with pytest.raises(WeightsError) as caught:
        load_weights(module, tmp_path / "bad.safetensors")
    message = str(caught.value)
    assert "bad.safetensors" in message and "4 problem" in message
    assert "linear3: weight has shape (10, 99) in the file but (10, 32) in the network" in message
    assert "linear3: bias is missing" in message
    assert "extra: the file has weights for it, but the network has no such node" in message
    assert "linear1: the file has running_mean" in message
    assert _unchanged(module, before)


def test_many_mismatches_are_summarised_by_cause(tmp_path):
    wide = chain(*[("Linear", {"out_features": 16}) for _ in range(12)])
    narrow = chain(*[("Linear", {"out_features": 8}) for _ in range(12)])
    state = compile_network(wide).state_dict()
    state["stranger.weight"] = torch.zeros(3)
    with pytest.raises(WeightsError) as caught:
        load_weights(compile_network(narrow), state)
    message = str(caught.value)
    assert message.startswith("the weights do not fit this network (25 problem(s)): ")
    assert (
        "another shape in the file than in the network: 24 tensors, e.g. linear1.weight, "
        "linear1.bias, linear2.weight; in the file but not in the network: 1 tensor "
        "(stranger.weight)"
    ) in message
    assert len(message) < 300


def test_a_dtype_kind_mismatch_is_refused(tmp_path):
    module = compile_network(NETWORKS["mlp"]())
    state = {k: v.clone() for k, v in module.state_dict().items()}
    state["linear1.bias"] = state["linear1.bias"].long()
    with pytest.raises(WeightsError, match=r"linear1: bias is torch\.int64"):
        load_weights(module, state)


class _Payload:
    """A pickle whose loading would create a file, if anything ran it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_malicious_pickle_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with open(path, "wb") as stream:
        pickle.dump({"linear1.weight": _Payload(str(marker))}, stream)
    torch.save({"linear1.weight": _Payload(str(marker))}, tmp_path / "evil_zip.pt")
    module = compile_network(NETWORKS["mlp"]())
    before = _snapshot(module)
    for name in ("evil.pt", "evil_zip.pt"):
        with pytest.raises(WeightsError, match="never runs code"):
            load_weights(module, tmp_path / name)
        with pytest.raises(WeightsError):
            export(NETWORKS["mlp"](), "onnx", tmp_path / "m.onnx", tmp_path / name)
    assert not marker.exists()
    assert _unchanged(module, before)
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a weights file", "not a readable"),
        (None, "no such weights file"),
    ],
)
def test_unreadable_files_give_a_sentence(tmp_path, content, message):
    path = tmp_path / "w.safetensors"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(WeightsError, match=message):
        read_weights(path)


def test_pt_files_must_be_plain_state_dicts(tmp_path):
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    torch.save({"a": 3}, tmp_path / "number.pt")
    with pytest.raises(WeightsError, match="state_dict"):
        read_weights(tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="a is not a tensor"):
        read_weights(tmp_path / "number.pt")
    with pytest.raises(WeightsError, match=r"\.safetensors file or a \.pt"):
        read_weights(_touch(tmp_path / "w.h5"))


def _touch(path):
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize("bad_id", ["x; import os", "__import__('os')", "class", "forward", "a.b"])
def test_a_malicious_node_id_is_refused_at_load(tmp_path, bad_id):
    data = project.Project(networks={"model": NETWORKS["mlp"]()}).to_dict()
    data["networks"]["model"]["nodes"][1]["id"] = bad_id
    for edge in data["networks"]["model"]["edges"]:
        for end in (edge["from"], edge["to"]):
            if end[0] == "linear1":
                end[0] = bad_id
    with pytest.raises(ProjectError, match="node id"):
        project.loads(json.dumps(data), "evil.dwire")


def test_weights_files_are_written_atomically(tmp_path):
    module = compile_network(NETWORKS["mlp"]())
    path = save_weights(module, tmp_path / "w.safetensors")
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]
    assert read_weights(path).keys() == module.state_dict().keys()
    with pytest.raises(WeightsError, match=r"\.safetensors or \.pt"):
        save_weights(module, tmp_path / "w.bin")
