"""Export round trips: every format reloads to the same outputs as the compiled network."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from engine.errors import CompileError
from engine.export import FORMATS, ExportError, export, prepare
from engine.weights import read_weights
from tests.engine.builders import chain
from tests.engine.test_export_networks import NETWORKS, as_tuple, sample_inputs


def _reference(network, batch, seed=1):
    prepared = prepare(network)
    inputs = sample_inputs(network, batch, seed)
    with torch.no_grad():
        return prepared, inputs, as_tuple(prepared.module(*inputs))


@pytest.mark.parametrize("fmt", ["safetensors", "pt"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_weights_formats_reload_equal(tmp_path, fmt, name):
    network = NETWORKS[name]()
    path = tmp_path / f"w.{fmt}"
    result = export(network, fmt, path)
    expected = prepare(network).module.state_dict()
    loaded = read_weights(path)
    assert result.fresh_weights and result.files == (path,)
    assert loaded.keys() == expected.keys()
    for key, tensor in expected.items():
        assert torch.equal(loaded[key], tensor), key


def test_fresh_weights_are_seeded_and_leave_global_random_state(tmp_path):
    network = NETWORKS["mlp"]()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    export(network, "safetensors", tmp_path / "a.safetensors")
    after = torch.rand(1)
    export(network, "safetensors", tmp_path / "b.safetensors", seed=0)
    export(network, "safetensors", tmp_path / "c.safetensors", seed=1)
    a, b, c = (read_weights(tmp_path / f"{n}.safetensors") for n in "abc")
    assert torch.equal(before, after)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["linear1.weight"], c["linear1.weight"])


def test_export_carries_given_weights(tmp_path):
    network = NETWORKS["cnn"]()
    trained = prepare(network, seed=7).module
    with torch.no_grad():
        trained.fc.bias.fill_(0.5)
    state = {k: v.clone() for k, v in trained.state_dict().items()}
    torch.save(state, tmp_path / "trained.pt")
    result = export(network, "safetensors", tmp_path / "out.safetensors", tmp_path / "trained.pt")
    loaded = read_weights(tmp_path / "out.safetensors")
    assert not result.fresh_weights
    assert all(torch.equal(loaded[k], state[k]) for k in state)


@pytest.mark.parametrize("name", ["cnn", "sequence", "two_outputs"])
def test_onnx_matches_torch_with_a_dynamic_batch(tmp_path, name):
    network = NETWORKS[name]()
    path = tmp_path / "model.onnx"
    export(network, "onnx", path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # weights inside, no .data
    session = onnxruntime.InferenceSession(str(path))
    prepared = prepare(network)
    assert [i.name for i in session.get_inputs()] == [i for i, _, _ in prepared.inputs]
    assert [o.name for o in session.get_outputs()] == prepared.outputs
    for batch in (1, 5):
        _, inputs, expected = _reference(network, batch)
        feed = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)}
        got = session.run(None, feed)
        for want, have in zip(expected, got):
            assert have.shape == tuple(want.shape)
            np.testing.assert_allclose(have, want.numpy(), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_program_reloads_equal_with_a_dynamic_batch(tmp_path, name):
    network = NETWORKS[name]()
    path = tmp_path / "model.pt2"
    export(network, "program", path)
    loaded = torch.export.load(str(path)).module()
    for batch in (1, 5):
        _, inputs, expected = _reference(network, batch)
        with torch.no_grad():
            got = as_tuple(loaded(*inputs))
        assert len(got) == len(expected)
        for want, have in zip(expected, got):
            torch.testing.assert_close(have, want)


_RUN_FOLDERS = textwrap.dedent(
    """
    import importlib.abc, importlib.util, json, sys

    class Refuse(importlib.abc.MetaPathFinder):
        # The venv installs Deepwire in editable mode: hide it, as on a user's machine.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("engine", "nodeeditor"):
                raise ImportError(name + " is hidden")

    sys.meta_path.insert(0, Refuse())
    import torch
    from safetensors.torch import load_file
    results = {}
    for folder in sys.argv[1:]:
        spec = importlib.util.spec_from_file_location("model_" + str(len(results)), folder + "/model.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.Model()
        model.load_state_dict(load_file(folder + "/model.safetensors"), strict=True)
        model.eval()
        inputs = torch.load(folder + "/inputs.pt", weights_only=True)
        with torch.no_grad():
            out = model(*inputs)
        out = out if isinstance(out, tuple) else (out,)
        results[folder] = [o.tolist() for o in out]
    results["deepwire_loaded"] = [m for m in sys.modules if m.split(".")[0] in ("engine", "nodeeditor")]
    print(json.dumps(results))
    """
)


def test_python_folder_runs_in_a_fresh_interpreter(tmp_path):
    expected = {}
    folders = []
    for name, build in sorted(NETWORKS.items()):
        network = build()
        folder = tmp_path / name
        result = export(network, "python", folder)
        assert {p.name for p in result.files} == {"model.py", "model.safetensors", "README.md"}
        assert "load_state_dict" in (folder / "README.md").read_text()
        _, inputs, outputs = _reference(network, 3)
        torch.save(list(inputs), folder / "inputs.pt")
        expected[str(folder)] = outputs
        folders.append(str(folder))
    script = tmp_path / "run.py"
    script.write_text(_RUN_FOLDERS)
    completed = subprocess.run(
        [sys.executable, "-I", str(script), *folders],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    assert results.pop("deepwire_loaded") == []
    for folder, outputs in expected.items():
        for want, have in zip(outputs, results[folder]):
            torch.testing.assert_close(torch.tensor(have), want, atol=1e-5, rtol=1e-5)


def test_torchscript_is_refused_with_the_replacement():
    with pytest.raises(ExportError, match="--format program"):
        export(NETWORKS["mlp"](), "torchscript", "model.ts")


def test_unknown_format_lists_the_choices(tmp_path):
    with pytest.raises(ExportError) as caught:
        export(NETWORKS["mlp"](), "keras", tmp_path / "m")
    assert all(fmt in str(caught.value) for fmt in FORMATS)


def test_broken_network_is_not_exported(tmp_path):
    network = chain(("Linear", {"out_features": 4}), input_shape=(1, 8, 8))
    with pytest.raises(CompileError, match="Flatten"):
        export(network, "onnx", tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_python_format_refuses_a_file_path(tmp_path):
    target = tmp_path / "model"
    target.write_text("keep me")
    with pytest.raises(ExportError, match="folder"):
        export(NETWORKS["mlp"](), "python", target)
    assert target.read_text() == "keep me"
