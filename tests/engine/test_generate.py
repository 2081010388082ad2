"""``deepwire generate``: samples from a trained GAN's generator, in the data's units, the
same file for the same seed, and one sentence for each kind of bad input."""

import numpy as np
import pytest
import torch

from engine import project as project_file
from engine.cli import main
from engine.compile import compile_network
from engine.data import load_dataset
from engine.project import Project
from engine.training import Trainer
from engine.training.core.adversarial import sample_noise
from engine.weights import read_weights, save_weights
from tests.engine.builders import chain

DIGITS = {"name": "digits", "params": {"limit": 300}}  # normalised, and scaled from 0-16
TRAINING = {"recipe": "adversarial", "epochs": 1, "batch_size": 64,
            "adversarial": {"generator": "gen", "discriminator": "critic"}}  # fmt: skip
NOISE = 8


def networks():
    generator = chain(("Linear", {"out_features": 32}), "ReLU", ("Linear", {"out_features": 64}),
                      input_shape=(NOISE,), name="gen")  # fmt: skip
    critic = chain("Flatten", ("Linear", {"out_features": 16}), "ReLU",
                   ("Linear", {"out_features": 1}), input_shape=(1, 8, 8), name="critic")  # fmt: skip
    return {"gen": generator, "critic": critic}


@pytest.fixture(scope="module")
def gan(tmp_path_factory):
    """A digits GAN trained for one epoch: (project path, weights path)."""
    folder = tmp_path_factory.mktemp("gan")
    proj = Project(networks(), DIGITS, TRAINING)
    path = folder / "gan.dwire"
    project_file.save(proj, path)
    trainer = Trainer(proj.networks, load_dataset(DIGITS), TRAINING)
    trainer.fit()
    weights = folder / "weights.safetensors"
    trainer.save_weights(weights)
    return path, weights


def generate(capsys, project, weights, out, *more):
    code = main(["generate", str(project), "--weights", str(weights), "-o", str(out), *more])
    stdout, stderr = capsys.readouterr()
    return code, stdout, stderr


def test_samples_come_in_the_datas_shape(gan, tmp_path, capsys):
    project, weights = gan
    out = tmp_path / "samples.npy"
    code, stdout, stderr = generate(capsys, project, weights, out, "-n", "1500")
    assert (code, stderr) == (0, "")
    assert stdout == f"wrote 1500 samples to {out}\n"
    samples = np.load(out, allow_pickle=False)
    assert samples.shape == (1500, 1, 8, 8) and samples.dtype == np.float32
    assert np.isfinite(samples).all()


def test_the_same_seed_gives_the_same_file(gan, tmp_path, capsys):
    project, weights = gan
    files = {}
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        files[name] = tmp_path / f"{name}.npy"
        assert generate(capsys, project, weights, files[name], "-n", "40", "--seed", seed)[0] == 0
    assert files["a"].read_bytes() == files["b"].read_bytes()
    assert not np.array_equal(np.load(files["a"]), np.load(files["c"]))


def test_samples_are_in_the_units_of_the_data_as_loaded(gan, tmp_path, capsys):
    project, weights = gan
    out = tmp_path / "samples.npy"
    assert generate(capsys, project, weights, out, "-n", "200", "--seed", "3")[0] == 0
    # the generator by hand: its tensors out of the GAN's file, noise from the core
    generator = compile_network(networks()["gen"]).eval()
    state = read_weights(weights)
    generator.load_state_dict({k.removeprefix("gen."): v for k, v in state.items()
                               if k.startswith("gen.")})  # fmt: skip
    noise = sample_noise(200, (NOISE,), "normal", generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        normalised = generator(noise).numpy()
    dataset = load_dataset(DIGITS)
    samples = np.load(out)
    np.testing.assert_allclose(samples, dataset.denormalize(normalised), rtol=1e-5, atol=1e-4)
    # pixels as scikit-learn gives them (0-16), not the normalised values training saw
    pixels = dataset.denormalize(dataset.x_train)
    assert pixels.min() == pytest.approx(0, abs=1e-4) and pixels.max() == pytest.approx(16)
    assert abs(samples.mean() - pixels.mean()) < 2.0 < abs(normalised.mean() - pixels.mean())


def test_a_generator_only_weights_file_gives_the_same_samples(gan, tmp_path, capsys):
    project, weights = gan
    alone = tmp_path / "generator.safetensors"
    state = read_weights(weights)
    save_weights({k[4:]: v for k, v in state.items() if k.startswith("gen.")}, alone)
    outs = [tmp_path / "gan.npy", tmp_path / "alone.npy"]
    for source, out in zip((weights, alone), outs):
        assert generate(capsys, project, source, out, "-n", "30")[0] == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()


def one_sentence(code, stdout, stderr):
    assert code == 2 and stdout == ""
    assert stderr.startswith("deepwire: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    return stderr


def test_a_project_that_trains_no_gan_is_refused(gan, tmp_path, capsys):
    _, weights = gan
    plain = tmp_path / "plain.dwire"
    project_file.save(Project(networks(), DIGITS, {"epochs": 1}), plain)
    out = tmp_path / "samples.npy"
    said = one_sentence(*generate(capsys, plain, weights, out, "-n", "5"))
    assert 'has no "recipe": "adversarial"' in said and "no generator" in said
    assert not out.exists()


@pytest.mark.parametrize("kind", ["missing", "other network", "damaged"])
def test_weights_that_are_missing_or_do_not_fit_are_refused(gan, tmp_path, capsys, kind):
    project, weights = gan
    source = tmp_path / "w.safetensors"
    if kind == "other network":  # the critic's weights alone
        state = read_weights(weights)
        save_weights({k[7:]: v for k, v in state.items() if k.startswith("critic.")}, source)
    elif kind == "damaged":
        source.write_bytes(weights.read_bytes()[:200])
    out = tmp_path / "samples.npy"
    said = one_sentence(*generate(capsys, project, source, out, "-n", "5"))
    expected = {"missing": "no such weights file", "other network": "do not fit this network",
                "damaged": "not a readable .safetensors file"}  # fmt: skip
    assert "w.safetensors" in said and expected[kind] in said, said
    assert not out.exists()


def test_a_mismatched_generator_is_named_by_node(gan, tmp_path, capsys):
    _, weights = gan
    bigger = networks()
    bigger["gen"] = chain(("Linear", {"out_features": 48}), "ReLU",
                          ("Linear", {"out_features": 64}), input_shape=(NOISE,), name="gen")  # fmt: skip
    other = tmp_path / "bigger.dwire"
    project_file.save(Project(bigger, DIGITS, TRAINING), other)
    said = one_sentence(*generate(capsys, other, weights, tmp_path / "s.npy", "-n", "5"))
    assert "weights.safetensors do not fit this network" in said
    assert "linear1: weight has shape (32, 8) in the file but (48, 8) in the network" in said


@pytest.mark.parametrize(("count", "said"), [
    ("0", "-n must be a whole number of 1 or more, not 0"), ("-3", "not -3"),
    ("2000000", "2,000,000 samples would take 488 MiB; write at most 256 MiB at a time"),
])  # fmt: skip
def test_fewer_than_one_sample_or_too_many_are_refused(gan, tmp_path, capsys, count, said):
    project, weights = gan
    out = tmp_path / "samples.npy"
    assert said in one_sentence(*generate(capsys, project, weights, out, "-n", count))
    assert not out.exists()


def test_a_seed_out_of_range_is_refused(gan, tmp_path, capsys):
    project, weights = gan
    out = tmp_path / "samples.npy"
    said = one_sentence(*generate(capsys, project, weights, out, "-n", "5", "--seed", "-1"))
    assert "--seed must be a whole number from 0" in said


@pytest.mark.parametrize("where", ["no folder", "a folder", "read-only", "not npy"])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(gan, tmp_path, capsys, where):
    project, weights = gan
    out = {"no folder": tmp_path / "missing" / "s.npy", "a folder": tmp_path / "dir.npy",
           "read-only": tmp_path / "kept.npy", "not npy": tmp_path / "s.csv"}[where]  # fmt: skip
    if where == "read-only":
        out.write_bytes(b"the user's file")
        out.chmod(0o444)
    if where == "a folder":
        out.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    said = one_sentence(*generate(capsys, project, weights, out, "-n", "5"))
    expected = {"no folder": "there is no folder", "a folder": "it is a folder",
                "read-only": "is read-only, so it was not replaced", "not npy": ".npy"}  # fmt: skip
    assert expected[where] in said
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written
    if where == "read-only":
        assert out.read_bytes() == b"the user's file"


def test_a_failure_while_writing_leaves_no_file(gan, tmp_path, capsys, monkeypatch):
    project, weights = gan
    out = tmp_path / "samples.npy"

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project_file, "_replace", full_disk)
    said = one_sentence(*generate(capsys, project, weights, out, "-n", "5"))
    assert "No space left on device" in said
    assert list(tmp_path.iterdir()) == []


def test_generate_is_listed_with_the_other_commands():
    from engine.cli import command_names

    assert "generate" in command_names()
