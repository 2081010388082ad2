"""Every bundled example trains from its own settings: a few epochs at a loose threshold.

The README states what each reaches with its full settings (`deepwire train FILE`); here
each runs for a few epochs and must clearly beat chance (or, for the autoencoder,
clearly reduce its reconstruction error).
"""

from pathlib import Path

import pytest

from engine import project
from engine.data import load_dataset
from engine.training import Trainer
from engine.training.core.adversarial import sample_noise

EXAMPLES = Path(__file__).parents[2] / "resources" / "examples"
# name -> (epochs, metric, threshold); chance is 10% for digits, 50% for two classes.
EXPECTED = {
    "digits_mlp": (4, "val_accuracy", 0.6),
    "digits_cnn": (4, "val_accuracy", 0.6),
    "digits_resnet": (3, "val_accuracy", 0.5),
    "sequence_lstm": (5, "val_accuracy", 0.7),
    "transformer_classifier": (5, "val_accuracy", 0.7),
    "transformer_tiny": (2, "val_accuracy", 0.7),
}


def test_every_example_is_covered():
    names = {path.stem for path in EXAMPLES.glob("*.dwire")}
    transfer = {"transfer_digits_source", "transfer_digits_target"}  # test_transfer.py
    gans = {"gan_rings", "gan_digits"}
    # resnet18 names no dataset (none shipped is 3x64x64): test_builtin_blocks.py checks
    # it against torchvision's ResNet-18 written by hand instead
    untrained = {"resnet18"}
    assert names == {*EXPECTED, "digits_autoencoder", "unet_small", *transfer, *gans, *untrained}


@pytest.mark.parametrize("name", EXPECTED)
def test_example_learns(name):
    epochs, metric, threshold = EXPECTED[name]
    proj = project.load(EXAMPLES / f"{name}.dwire")
    settings = {**proj.training, "epochs": epochs, "early_stopping": None}
    trainer = Trainer(proj.network, load_dataset(proj.dataset), settings)
    end = trainer.fit()
    assert end.epochs_done == epochs
    assert max(row[metric] for row in trainer.history) >= threshold


def test_autoencoder_reconstructs_better_than_at_the_start():
    proj = project.load(EXAMPLES / "digits_autoencoder.dwire")
    trainer = Trainer(proj.network, load_dataset(proj.dataset), {**proj.training, "epochs": 5})
    trainer.fit()
    losses = [row["val_loss"] for row in trainer.history]
    assert losses[-1] < 0.85 * losses[0]


def test_unet_small_removes_noise_from_the_digits():
    import torch

    proj = project.load(EXAMPLES / "unet_small.dwire")
    data = load_dataset(proj.dataset)
    trainer = Trainer(proj.network, data, {**proj.training, "epochs": 2})
    clean = torch.as_tensor(data.x_val)
    noisy = clean + 0.5 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    trainer.fit()
    trainer.model.eval()
    with torch.no_grad():
        denoised = trainer.model(noisy)
    assert ((denoised - clean) ** 2).mean() < 0.6 * ((noisy - clean) ** 2).mean()


def generated(trainer, count: int = 512):
    """``count`` samples of the GAN's generator, shaped like the data."""
    import torch

    recipe = trainer.recipe
    noise = sample_noise(count, recipe.noise_shape, generator=torch.Generator().manual_seed(3))
    return recipe.generate(noise).numpy()


def test_gan_rings_moves_its_points_onto_the_ring():
    import numpy as np

    proj = project.load(EXAMPLES / "gan_rings.dwire")
    trainer = Trainer(proj.networks, load_dataset(proj.dataset), {**proj.training, "epochs": 1})
    off_ring = lambda points: float(np.abs(np.linalg.norm(points, axis=1) - 2.0).mean())  # noqa: E731
    before = off_ring(generated(trainer))
    trainer.config.epochs = 12
    trainer.fit()
    assert off_ring(generated(trainer)) < 0.5 * before


def test_gan_digits_images_move_towards_the_digits():
    import numpy as np

    proj = project.load(EXAMPLES / "gan_digits.dwire")
    data = load_dataset(proj.dataset)
    trainer = Trainer(proj.networks, data, {**proj.training, "epochs": 4})
    mean_image = data.x_train.mean(axis=0)
    gap = lambda images: float(((images.mean(axis=0) - mean_image) ** 2).mean())  # noqa: E731
    before = gap(generated(trainer))
    trainer.fit()
    assert gap(generated(trainer)) < 0.5 * before
    assert np.isfinite(generated(trainer)).all()
