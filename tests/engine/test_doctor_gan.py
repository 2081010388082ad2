"""The training doctor reads a GAN's rows: the discriminator winning, mode collapse and
oscillation are named with the setting to change; a healthy GAN gets no note."""

import math
import re

import pytest

from engine.training.config import LABELS, label
from engine.training.doctor import diagnose

EPOCHS = 20
REAL_SPREAD = 1.4  # rings: the data's mean per-feature standard deviation


def gan_rows(**series):
    """Rows like the adversarial recipe's, healthy unless a series is given."""
    wobble = [math.sin(1.7 * i) for i in range(EPOCHS)]  # epoch-to-epoch noise
    healthy = {
        "train_d_loss": [1.30 + 0.03 * w for w in wobble],
        "train_g_loss": [0.85 + 0.05 * w for w in wobble],
        "train_d_real": [0.55 + 0.02 * w for w in wobble],
        "train_d_fake": [0.45 - 0.02 * w for w in wobble],
        "train_g_grad": [0.4 + 0.05 * w for w in wobble],
        "fake_spread": [min(0.2 + 0.15 * i, 1.3) for i in range(EPOCHS)],
        "real_spread": [REAL_SPREAD] * EPOCHS,
    }
    healthy.update(series)
    rows = []
    for i in range(len(healthy["train_d_loss"])):
        row = {"epoch": i + 1, **{k: v[i] for k, v in healthy.items()}, "lr": 0.0002}
        rows.append(row)
    return rows


def falling(start, end, n=EPOCHS):
    """``n`` values falling geometrically from ``start`` to ``end``."""
    return [start * (end / start) ** (i / (n - 1)) for i in range(n)]


def kinds(history, final=True):
    return [note.kind for note in diagnose(history, "generation", final=final)]


D_WINS = {
    "train_d_loss": falling(1.3, 0.004),
    "train_d_real": [min(0.5 + 0.05 * i, 0.995) for i in range(EPOCHS)],
    "train_d_fake": [max(0.5 - 0.05 * i, 0.004) for i in range(EPOCHS)],
    "train_g_grad": falling(1.0, 0.0004),
}
COLLAPSED = {"fake_spread": [0.9, 0.6, 0.3] + [0.04] * (EPOCHS - 3)}
SWINGING = {"train_g_loss": [0.8 + (2.2 if i % 2 else 0.0) for i in range(EPOCHS)]}


def test_a_healthy_gan_gets_no_note():
    assert kinds(gan_rows()) == []
    assert kinds(gan_rows(), final=False) == []


def test_a_discriminator_that_wins_is_named_with_its_fix():
    (note,) = diagnose(gan_rows(**D_WINS))
    assert note.kind == "discriminator_wins"
    assert "D(real) is 0.995 and D(fake) 0.004" in note.message
    assert "gradient fell from 1 to 0.0004" in note.message
    assert note.settings[:3] == [
        "adversarial.discriminator_optimizer.lr",
        "adversarial.d_steps",
        "adversarial.label_smoothing",
    ]
    assert "smaller" in note.message


def test_with_label_smoothing_a_vanished_gradient_still_shows_the_discriminator_winning():
    # smoothing 0.1 keeps the discriminator's loss near 0.33 however sure it is
    smoothed = {**D_WINS, "train_d_loss": falling(1.3, 0.33)}
    assert kinds(gan_rows(**smoothed)) == ["discriminator_wins"]


def test_a_sure_discriminator_whose_generator_still_learns_is_not_named():
    # confident outputs for a while, but the loss stays and the gradient holds up
    sure = {**D_WINS, "train_d_loss": [0.6] * EPOCHS, "train_g_grad": [0.5] * EPOCHS}
    assert kinds(gan_rows(**sure)) == []
    # winning for two epochs only, the others a contest
    brief = {**D_WINS, "train_d_real": [0.55] * (EPOCHS - 2) + [0.99, 0.99],
             "train_d_fake": [0.45] * (EPOCHS - 2) + [0.01, 0.01]}  # fmt: skip
    assert kinds(gan_rows(**brief)) == []


def test_mode_collapse_is_named_when_the_fakes_spread_far_less_than_the_data():
    (note,) = diagnose(gan_rows(**COLLAPSED))
    assert note.kind == "mode_collapse"
    assert "spread 0.04 against the data's 1.4" in note.message
    assert note.settings == [
        "adversarial.generator_optimizer.lr",
        "Input",
        "batch_size",
        "adversarial.label_smoothing",
    ]
    assert "noise dimensions" in note.message and "Batch size" in note.message


def test_spread_as_the_epoch_row_writes_it_is_read_too():
    rows = gan_rows(**COLLAPSED)
    for row in rows:  # EpochEnd.row() prefixes the ``val`` metrics
        row["val_fake_spread"] = row.pop("fake_spread")
        row["val_real_spread"] = row.pop("real_spread")
    assert kinds(rows) == ["mode_collapse"]


def test_a_young_generator_that_has_not_spread_out_yet_is_not_collapse():
    young = gan_rows(fake_spread=[0.02, 0.05, 0.1, 0.2] + [1.0] * (EPOCHS - 4))[:4]
    assert kinds(young, final=False) == []
    recovered = {"fake_spread": [0.04] * (EPOCHS - 2) + [0.3, 0.5]}
    assert kinds(gan_rows(**recovered)) == []
    slow = {"fake_spread": [0.01 * 1.2**i for i in range(EPOCHS)]}  # 0.32 at the end, still growing
    assert kinds(gan_rows(**slow)) == []


def test_oscillation_is_named_when_the_losses_swing_without_settling():
    (note,) = diagnose(gan_rows(**SWINGING))
    assert note.kind == "oscillation"
    assert "swung between 0.8 and 3 over the last 8 epochs" in note.message
    assert "beta1 0.5" in note.message and "try a tenth" in note.message
    assert set(note.settings) == {
        "adversarial.generator_optimizer.lr",
        "adversarial.discriminator_optimizer.lr",
        "adversarial.generator_optimizer.betas",
        "adversarial.discriminator_optimizer.betas",
    }


# a healthy GAN's generator loss, measured: rings, MLPs of 64 units, default adversarial
# settings, batch size 32, seed 1; it cycles slowly around its mean, 40 epochs
MEASURED = [0.689, 0.714, 0.723, 0.786, 0.858, 0.837, 0.728, 0.67, 0.87, 1.17, 1.16, 0.865,
            0.658, 0.999, 1.3, 1.28, 1.1, 0.861, 0.714, 0.822, 1.04, 1.16, 1.17, 1.01, 0.846,
            0.597, 0.601, 0.874, 1.09, 1.13, 1.01, 0.796, 0.634, 0.65, 0.796, 1.01, 1.12, 1.05,
            0.939, 0.826]  # fmt: skip


def test_a_healthy_gans_slow_cycles_are_never_oscillation():
    rows = [{**gan_rows()[i % EPOCHS], "epoch": i + 1, "train_g_loss": g}
            for i, g in enumerate(MEASURED)]  # fmt: skip
    for end in range(2, len(rows) + 1):  # as the app asks while training, and at the end
        assert kinds(rows[:end], final=end == len(rows)) == [], end


def test_swings_that_die_down_or_stay_small_are_not_oscillation():
    damped = [0.9 + 2.0 * 0.4**i * (1 if i % 2 else -1) for i in range(EPOCHS)]
    assert kinds(gan_rows(train_g_loss=[abs(v) for v in damped])) == []
    small = [0.9 + (0.1 if i % 2 else 0.0) for i in range(EPOCHS)]  # 11 % swings: noise
    assert kinds(gan_rows(train_g_loss=small)) == []
    one_jump = [0.8] * 10 + [3.0] * 10  # a level shift is not a swing
    assert kinds(gan_rows(train_g_loss=one_jump)) == []


def test_failures_seen_together_are_each_named():
    assert kinds(gan_rows(**D_WINS, **COLLAPSED)) == ["discriminator_wins", "mode_collapse"]


@pytest.mark.parametrize("failure", [D_WINS, COLLAPSED, SWINGING])
def test_gan_notes_speak_with_the_labels_of_the_form(failure, monkeypatch):
    (note,) = diagnose(gan_rows(**failure))
    assert (
        re.findall(r"\b(?:adversarial|optimizer)\.\w+|\bd_steps\b|_optimizer\b", note.message) == []
    )
    for key in note.settings:
        if "." in key or key in LABELS:
            assert label(key) in note.message, key
    # once the form labels the adversarial settings, the note reads with those words
    names = {key: f"Label of {key.replace('.', ' ')}" for key in note.settings if "." in key}
    for key, name in names.items():
        monkeypatch.setitem(LABELS, key, name)
    (relabelled,) = diagnose(gan_rows(**failure))
    for name in names.values():
        assert name in relabelled.message


def test_a_supervised_history_is_read_as_before():
    rising = [1.0, 0.6, 0.5, 1.5, 4.0]
    history = [{"epoch": i + 1, "train_loss": v, "val_loss": v} for i, v in enumerate(rising)]
    assert kinds(history) == ["divergence"]
    assert diagnose([]) == []
