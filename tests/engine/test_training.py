"""The Trainer on small data: learning, stopping, resuming, control from other threads."""

import threading

import pytest
import torch
from safetensors.torch import load_file

from engine.data import load_dataset
from engine.errors import DataError, TrainingError
from engine.training import Callback, Trainer
from tests.engine.builders import chain


class Recorder(Callback):
    """Keeps every event it hears."""

    def __init__(self):
        self.events = []

    def on_train_start(self, trainer, event):
        self.events.append(("start", event))

    def on_batch_end(self, trainer, event):
        self.events.append(("batch", event))

    def on_epoch_end(self, trainer, event):
        self.events.append(("epoch", event))

    def on_pause(self, trainer, paused):
        self.events.append(("pause", paused))

    def on_train_end(self, trainer, event):
        self.events.append(("end", event))

    def on_exception(self, trainer, event):
        self.events.append(("failed", event))

    def of(self, kind):
        return [e for k, e in self.events if k == kind]


def moons_net(hidden=16, outputs=2):
    return chain(("Linear", {"out_features": hidden}), "ReLU",
                 ("Linear", {"out_features": outputs}), input_shape=(2,))  # fmt: skip


@pytest.fixture(scope="module")
def moons():
    return load_dataset({"name": "moons", "params": {"n_samples": 400}})


def test_loss_decreases_and_events_reach_listeners(moons):
    recorder = Recorder()
    config = {"epochs": 8, "batch_size": 32, "optimizer": {"type": "Adam", "lr": 0.02}}
    end = Trainer(moons_net(), moons, config, [recorder]).fit()
    epochs = recorder.of("epoch")
    assert end.reason == "finished" and [e.epoch for e in epochs] == list(range(1, 9))
    assert epochs[-1].train["loss"] < 0.6 * epochs[0].train["loss"]
    assert epochs[-1].val["accuracy"] > 0.8
    batches = recorder.of("batch")
    assert len(batches) == 8 * 10 and batches[0].batches == 10  # 320 samples / 32
    assert all(b.lr == 0.02 and b.samples_per_s > 0 for b in batches)
    assert recorder.events[0][0] == "start" and recorder.events[-1][0] == "end"


def test_early_stopping_stops_when_the_metric_stops_improving(moons):
    config = {"epochs": 30, "batch_size": 64,
              "early_stopping": {"monitor": "val_accuracy", "patience": 2, "min_delta": 1.0}}  # fmt: skip
    trainer = Trainer(moons_net(), moons, config)
    end = trainer.fit()
    assert end.reason == "early_stopping" and end.epochs_done == 3 and end.best_epoch == 1


def test_resume_continues_exactly_from_the_checkpoint(moons, tmp_path):
    config = {"epochs": 4, "batch_size": 32, "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9},
              "scheduler": {"type": "StepLR", "step_size": 1, "gamma": 0.5}}  # fmt: skip
    whole = Trainer(moons_net(), moons, config, out_dir=tmp_path / "whole")
    whole.fit()
    first = Trainer(moons_net(), moons, {**config, "epochs": 2}, out_dir=tmp_path / "part")
    first.fit()
    recorder = Recorder()
    second = Trainer(moons_net(), moons, config, [recorder], out_dir=tmp_path / "part")
    second.fit(resume_from=tmp_path / "part")
    assert [e.epoch for e in recorder.of("epoch")] == [3, 4]
    assert [row["epoch"] for row in second.history] == [1, 2, 3, 4]
    assert [row["lr"] for row in second.history] == [0.1, 0.05, 0.025, 0.0125]
    a = load_file(tmp_path / "whole/checkpoints/last.safetensors")
    b = load_file(tmp_path / "part/checkpoints/last.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_from_a_missing_checkpoint_is_explained(moons, tmp_path):
    with pytest.raises(TrainingError, match="no checkpoint there"):
        Trainer(moons_net(), moons, {"epochs": 1}).fit(resume_from=tmp_path / "nothing")


def test_stop_from_another_thread_ends_within_one_batch(moons):
    reached = threading.Event()

    class Signal(Callback):
        def on_batch_end(self, trainer, event):
            counts.append(event.step)
            if event.step == 5:
                reached.set()

    counts = []
    trainer = Trainer(moons_net(), moons, {"epochs": 500, "batch_size": 8}, [Signal()])
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("end", trainer.fit()))
    worker.start()
    assert reached.wait(60)
    trainer.stop()
    seen_at_stop = len(counts)
    worker.join(60)
    assert result["end"].reason == "stopped"
    assert len(counts) <= seen_at_stop + 1


def test_pause_and_resume_from_another_thread(moons):
    recorder = Recorder()

    class PauseOnce(Callback):
        def on_batch_end(self, trainer, event):
            if event.step == 3:
                trainer.pause()

        def on_pause(self, trainer, paused):
            if paused:
                threading.Thread(target=trainer.resume).start()

    trainer = Trainer(moons_net(), moons, {"epochs": 1, "batch_size": 64}, [PauseOnce(), recorder])
    end = trainer.fit()
    assert end.reason == "finished" and len(recorder.of("batch")) == 5
    assert recorder.of("pause") == [True, False]
    kinds = [k for k, _ in recorder.events if k in ("batch", "pause")]
    assert kinds[3:5] == ["pause", "pause"]  # between batch 3 and batch 4


def test_stop_while_paused_ends_training(moons):
    class PauseThenStop(Callback):
        def on_pause(self, trainer, paused):
            if paused:
                threading.Thread(target=trainer.stop).start()

        def on_batch_end(self, trainer, event):
            if event.step == 2:
                trainer.pause()

    end = Trainer(moons_net(), moons, {"epochs": 3, "batch_size": 64}, [PauseThenStop()]).fit()
    assert end.reason == "stopped" and end.epochs_done == 0


def test_nan_loss_stops_with_the_likely_causes():
    data = load_dataset({"name": "diabetes", "params": {}})
    network = chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 1}),
                    input_shape=(10,))  # fmt: skip
    recorder = Recorder()
    config = {"epochs": 5, "batch_size": 32, "optimizer": {"type": "SGD", "lr": 5.0}}
    with pytest.raises(TrainingError, match="learning rate is too high") as error:
        Trainer(network, data, config, [recorder]).fit()
    assert "lower optimizer.lr" in str(error.value)
    assert recorder.of("failed")[0].message == str(error.value)


def test_frozen_nodes_keep_their_weights(moons):
    network = moons_net()
    network.set_trainable("linear1", False)
    trainer = Trainer(
        network, moons, {"epochs": 2, "batch_size": 32, "optimizer": {"type": "SGD", "lr": 0.5}}
    )
    frozen = trainer.model.linear1.weight.detach().clone()
    trained = trainer.model.linear3.weight.detach().clone()
    trainer.fit()
    assert torch.equal(trainer.model.linear1.weight, frozen)
    assert not torch.equal(trainer.model.linear3.weight, trained)


def test_every_layer_frozen_is_refused(moons):
    network = moons_net()
    network.set_trainable("linear1", False)
    network.set_trainable("linear3", False)
    with pytest.raises(TrainingError, match="every layer with weights is frozen"):
        Trainer(network, moons, {"epochs": 1}).fit()


def test_network_and_data_must_fit():
    digits = load_dataset({"name": "digits", "params": {}})
    with pytest.raises(DataError, match=r"the Input takes \(1, 28, 28\) but digits samples are"):
        Trainer(chain("Flatten", ("Linear", {"out_features": 10}), input_shape=(1, 28, 28)), digits)
    with pytest.raises(TrainingError, match="set out_features to 10"):
        Trainer(chain(("Linear", {"out_features": 5}), input_shape=(64,)), digits)
    with pytest.raises(TrainingError, match="is for classes"):
        sine = load_dataset({"name": "sine", "params": {"n_samples": 50}})
        Trainer(chain("Flatten", ("Linear", {"out_features": 1}), input_shape=(20, 1)), sine,
                {"loss": "CrossEntropyLoss"})  # fmt: skip


def test_regression_reports_mae_and_r2():
    data = load_dataset({"name": "diabetes", "params": {}})
    network = chain(("Linear", {"out_features": 1}), input_shape=(10,))
    config = {
        "epochs": 15,
        "batch_size": 32,
        "loss": "MSELoss",
        "optimizer": {"type": "Adam", "lr": 0.05},
    }
    trainer = Trainer(network, data, config)
    trainer.fit()
    last = trainer.history[-1]
    assert last["val_r2"] > 0.3
    assert 20 < last["val_mae"] < 80  # in the target's own units (progression points)


def test_reconstruction_trains_an_autoencoder():
    data = load_dataset({"name": "digits", "params": {"task": "reconstruction", "limit": 500}})
    network = chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 64}),
                    input_shape=(64,))  # fmt: skip
    trainer = Trainer(network, data, {"epochs": 5, "optimizer": {"type": "Adam", "lr": 0.01}})
    trainer.fit()
    assert trainer.history[-1]["val_loss"] < 0.8 * trainer.history[0]["val_loss"]


@pytest.mark.parametrize(
    ("settings", "expected_lrs"),
    [
        ({"optimizer": {"type": "SGD", "lr": 0.1, "nesterov": True, "momentum": 0.9},
          "scheduler": "cosine", "grad_clip": 1.0}, None),
        ({"optimizer": {"type": "AdamW", "lr": 0.01}, "l1": 1e-4,
          "scheduler": {"type": "OneCycleLR", "max_lr": 0.05}}, None),
        ({"optimizer": {"type": "RMSprop", "lr": 0.01},
          "scheduler": {"type": "ReduceLROnPlateau", "patience": 0, "factor": 0.5}}, None),
        ({"optimizer": {"type": "Adam", "lr": 0.01, "weight_decay": 1e-3},
          "scheduler": {"type": "StepLR", "step_size": 1, "gamma": 0.1}}, [0.01, 0.001, 0.0001]),
    ],
)  # fmt: skip
def test_optimizers_schedules_and_penalties_train(moons, settings, expected_lrs):
    trainer = Trainer(moons_net(), moons, {"epochs": 3, "batch_size": 64, **settings})
    trainer.fit()
    lrs = [row["lr"] for row in trainer.history]
    assert all(row["train_loss"] == row["train_loss"] for row in trainer.history)  # not NaN
    if expected_lrs:
        assert lrs == pytest.approx(expected_lrs)
    elif settings["scheduler"] != {"type": "ReduceLROnPlateau", "patience": 0, "factor": 0.5}:
        assert lrs[0] != lrs[-1]


def test_augmented_image_training_and_best_weights_are_kept(tmp_path):
    data = load_dataset({"name": "digits", "params": {"augment": True, "limit": 400}})
    network = chain("Flatten", ("Linear", {"out_features": 10}), input_shape=(1, 8, 8))
    trainer = Trainer(network, data, {"epochs": 3, "batch_size": 32}, out_dir=tmp_path)
    end = trainer.fit()
    best = load_file(tmp_path / "checkpoints/best.safetensors")
    assert set(best) == set(trainer.model.state_dict())
    assert all(torch.equal(best[k], v) for k, v in trainer.model.state_dict().items())
    assert end.best_epoch == max(trainer.history, key=lambda r: -r["val_loss"])["epoch"]
