"""The adversarial recipe: a GAN project's settings, its shape checks across the two
networks, and what a run records, keeps, resumes and shows."""

import numpy as np
import pytest
import torch

from engine.data import load_dataset
from engine.errors import DataError, TrainingError
from engine.training import Callback, Trainer, TrainingConfig
from tests.engine.builders import chain

RINGS = {"name": "rings", "params": {"n_samples": 512, "validation_split": 0.0}}
TRAINING = {"recipe": "adversarial", "epochs": 2, "batch_size": 64}


def gan(noise=4, made=2, takes=2, logit=1, names=("generator", "discriminator")):
    generator = chain(("Linear", {"out_features": 16}), "ReLU",
                      ("Linear", {"out_features": made}), input_shape=(noise,), name=names[0])  # fmt: skip
    discriminator = chain(("Linear", {"out_features": 16}), ("LeakyReLU", {"negative_slope": 0.2}),
                          ("Linear", {"out_features": logit}), input_shape=(takes,), name=names[1])  # fmt: skip
    return {names[0]: generator, names[1]: discriminator}


@pytest.fixture(scope="module")
def rings():
    return load_dataset(RINGS)


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        (
            {"adversarial": {"noise": "gaussian"}},
            "adversarial.noise must be one of normal, uniform",
        ),
        ({"adversarial": {"d_steps": 0}}, "adversarial.d_steps must be a whole number of 1"),
        ({"adversarial": {"label_smoothing": 0.5}}, "must be below 0.5"),
        ({"adversarial": {"critic": "d"}}, "adversarial has no setting 'critic'"),
        ({"adversarial": {"generator": "g", "discriminator": "g"}}, "must be another network"),
        ({"early_stopping": True}, "early_stopping is not used by the adversarial recipe"),
        (
            {"adversarial": {"generator_optimizer": {"lr": 0}}},
            "adversarial.generator_optimizer.lr must be more than 0",
        ),
    ],
)
def test_wrong_gan_settings_are_named(settings, said):
    with pytest.raises(TrainingError, match=said.replace("(", r"\(").replace(".", r"\.")):
        TrainingConfig.from_dict({**TRAINING, **settings})


def test_adversarial_settings_without_the_recipe_are_refused():
    with pytest.raises(TrainingError, match='read only with "recipe": "adversarial"'):
        TrainingConfig.from_dict({"adversarial": {}})


def test_gan_optimizers_default_to_adam_with_beta1_half():
    config = TrainingConfig.from_dict(
        {**TRAINING, "adversarial": {"generator_optimizer": {"lr": 0.01}}}
    )
    assert config.adversarial["generator_optimizer"]["betas"] == [0.5, 0.999]
    assert config.adversarial["generator_optimizer"]["lr"] == 0.01
    assert config.adversarial["discriminator_optimizer"]["lr"] == 0.0002


@pytest.mark.parametrize(
    ("networks", "error", "said"),
    [
        (
            gan(names=("g", "discriminator")),
            TrainingError,
            "adversarial.generator: the project has no network 'generator' (it has: g, discriminator)",
        ),
        (
            gan(logit=3),
            TrainingError,
            "the discriminator must end in one logit (an Output of shape (1,)); its Output has shape (3,)",
        ),
        (
            gan(made=5),
            TrainingError,
            "the generator's Output has shape (5,) (5 numbers) but the discriminator's Input takes (2,) "
            "(2 numbers): make the generator's last layer give 2 numbers",
        ),
        (gan(made=3, takes=3), DataError, "rings samples are (2,)"),
    ],
)
def test_shapes_are_checked_across_the_two_networks(rings, networks, error, said):
    with pytest.raises(error) as caught:
        Trainer(networks, rings, TRAINING)
    assert said in str(caught.value)


class Views(Callback):
    def __init__(self):
        self.views = []

    def on_view(self, trainer, view):
        self.views.append(view)


def test_a_gan_run_records_both_losses_and_keys_weights_by_network(rings, tmp_path):
    views = Views()
    trainer = Trainer(gan(), rings, TRAINING, [views], out_dir=tmp_path, views=True)
    end = trainer.fit()
    assert end.reason == "finished" and end.best_epoch == 2  # a GAN keeps its last epoch
    row = trainer.history[-1]
    for key in ("train_d_loss", "train_g_loss", "train_d_real", "train_d_fake", "train_g_grad",
                "fake_spread", "real_spread"):  # fmt: skip
        assert np.isfinite(row[key]), key
    assert 0 < row["train_d_real"] < 1 and 0 < row["train_d_fake"] < 1
    assert row["real_spread"] == pytest.approx(rings.x_train.std(axis=0, ddof=1).mean(), rel=1e-4)
    keys = set(trainer.model.state_dict())
    assert "generator.linear1.weight" in keys and "discriminator.linear3.bias" in keys
    assert [view.epoch for view in views.views] == [1, 2]
    view = views.views[-1]
    assert view.real.shape == (512, 2) and view.fake.shape == (512, 2)
    assert view.field.shape == (40, 40) and ((view.field >= 0) & (view.field <= 1)).all()
    assert view.extent[0] < view.real[:, 0].min() and view.extent[3] > view.real[:, 1].max()


def test_the_same_seed_trains_the_same_gan(rings):
    runs = [Trainer(gan(), rings, TRAINING) for _ in range(2)]
    for trainer in runs:
        trainer.fit()
    assert runs[0].history == runs[1].history
    for key, value in runs[0].model.state_dict().items():
        assert torch.equal(value, runs[1].model.state_dict()[key])


def test_a_gan_resumes_from_its_checkpoint_as_if_never_stopped(rings, tmp_path):
    whole = Trainer(gan(), rings, {**TRAINING, "epochs": 3}, out_dir=tmp_path / "whole")
    whole.fit()
    first = Trainer(gan(), rings, {**TRAINING, "epochs": 2}, out_dir=tmp_path / "part")
    first.fit()
    rest = Trainer(gan(), rings, {**TRAINING, "epochs": 3}, out_dir=tmp_path / "part")
    rest.fit(resume_from=tmp_path / "part")
    assert [row["epoch"] for row in rest.history] == [1, 2, 3]
    for key in ("train_d_loss", "train_g_loss", "fake_spread"):
        assert rest.history[-1][key] == pytest.approx(whole.history[-1][key], rel=1e-5)


def test_a_gan_on_images_shows_a_grid_of_samples():
    digits = load_dataset({"name": "digits", "params": {"limit": 256, "validation_split": 0.0}})
    networks = {
        "generator": chain(
            ("Linear", {"out_features": 64}),
            ("Unflatten", {"dim": 1, "unflattened_size": [1, 8, 8]}),
            input_shape=(8,),
            name="generator",
        ),
        "discriminator": chain(
            "Flatten", ("Linear", {"out_features": 1}), input_shape=(1, 8, 8), name="discriminator"
        ),
    }
    views = Views()
    Trainer(networks, digits, {**TRAINING, "epochs": 1}, [views], views=True).fit()
    (view,) = views.views
    assert view.images.shape == (16, 1, 8, 8) and view.real is None


def test_a_gans_result_pictures_are_left_to_its_live_view(rings):
    from engine.training.evaluate import evaluate

    trainer = Trainer(gan(), rings, {**TRAINING, "epochs": 1})
    trainer.fit()
    assert evaluate(trainer) == {}
