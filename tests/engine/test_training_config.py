"""The training section's validation, and the training doctor's notes."""

import subprocess
import sys

import pytest

from engine.errors import TrainingError
from engine.training.config import TrainingConfig
from engine.training.doctor import diagnose


def test_defaults_and_round_trip():
    config = TrainingConfig.from_dict({"epochs": 20, "batch_size": 64, "loss": "CrossEntropyLoss",
                                       "optimizer": {"type": "Adam", "lr": 0.001}})  # fmt: skip
    assert config.optimizer["betas"] == [0.9, 0.999] and config.loss == {
        "type": "CrossEntropyLoss", "label_smoothing": 0.0}  # fmt: skip
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert TrainingConfig.from_dict(None).loss_name == "auto"
    assert (
        TrainingConfig.from_dict({"scheduler": "plateau"}).scheduler["type"] == "ReduceLROnPlateau"
    )
    assert TrainingConfig.from_dict({"early_stopping": True}).early_stopping["patience"] == 5


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"epochs": 0}, "epochs must be a whole number of 1 or more"),
        ({"batch_size": "64"}, "batch_size"),
        ({"epoch": 3}, "unknown setting 'epoch'"),
        ({"loss": "CrossEntropy"}, "loss 'CrossEntropy' is not one of"),
        ({"loss": {"type": "HuberLoss", "beta": 1}}, "HuberLoss has no setting 'beta'"),
        ({"optimizer": {"type": "Adam", "lr": 0}}, "optimizer.lr must be more than 0"),
        ({"optimizer": {"type": "Adam", "momentum": 0.9}}, "Adam has no setting 'momentum'"),
        ({"optimizer": {"type": "SGD", "nesterov": True}}, "nesterov needs momentum"),
        ({"optimizer": {"type": "Adam", "betas": [0.9]}}, "optimizer.betas"),
        ({"scheduler": {"type": "StepLR", "step_size": 0}}, "scheduler.step_size"),
        ({"scheduler": "warmup"}, "scheduler 'warmup' is not one of"),
        ({"early_stopping": {"monitor": "val_f1"}}, "early_stopping.monitor"),
        ({"early_stopping": {"patience": 0}}, "early_stopping.patience"),
        ({"device": "gpu"}, "device must be"),
        ({"precision": "fp8"}, "precision must be one of"),
        ({"grad_clip": 0}, "grad_clip must be more than 0"),
        ({"l1": -1}, "l1 must be a number of 0 or more"),
        ({"compile": "yes"}, "compile must be true or false"),
    ],
)
def test_bad_training_sections_name_the_field(section, fragment):
    with pytest.raises(TrainingError, match="training: ") as error:
        TrainingConfig.from_dict(section)
    assert fragment in str(error.value)


def test_config_and_package_import_without_torch():
    code = ("import sys, engine.training, engine.training.config, engine.data; "
            "engine.training.TrainingConfig.from_dict({'epochs': 2}); "
            "print('torch' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def rows(train, val, **extra):
    history = []
    for i, (t, v) in enumerate(zip(train, val)):
        row = {"epoch": i + 1, "train_loss": t, "val_loss": v}
        row.update({k: values[i] for k, values in extra.items()})
        history.append(row)
    return history


def test_doctor_sees_overfitting_and_names_the_settings():
    notes = diagnose(
        rows([1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05], [1.0, 0.7, 0.6, 0.65, 0.7, 0.8, 0.9])
    )
    assert [n.kind for n in notes] == ["overfitting"]
    assert "epoch 3" in notes[0].message
    assert {"Dropout", "optimizer.weight_decay", "dataset.augment", "early_stopping"} <= set(
        notes[0].settings
    )


def test_doctor_sees_divergence():
    notes = diagnose(rows([1.0, 0.8, 1.5, 3.0, 9.0], [1.0, 0.9, 1.6, 3.2, 9.5]))
    assert [n.kind for n in notes] == ["divergence"] and "optimizer.lr" in notes[0].settings
    assert diagnose(rows([1.0, float("nan")], [1.0, 1.0]))[0].kind == "divergence"


def test_doctor_sees_underfitting_and_plateau():
    flat = [2.30, 2.29, 2.29, 2.29, 2.29]
    notes = diagnose(rows(flat, flat, train_accuracy=[0.1, 0.11, 0.11, 0.11, 0.11]))
    assert [n.kind for n in notes] == ["underfitting"] and "optimizer.lr" in notes[0].settings
    train = [1.0, 0.5, 0.3, 0.2, 0.15, 0.12, 0.1, 0.09]
    val = [1.0, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
    notes = diagnose(rows(train, val, train_accuracy=[0.9] * 8))
    assert [n.kind for n in notes] == ["plateau"] and "scheduler" in notes[0].settings


def test_doctor_is_quiet_about_healthy_training():
    train = [1.0, 0.6, 0.4, 0.3, 0.25, 0.23, 0.22]
    val = [1.0, 0.6, 0.4, 0.34, 0.33, 0.32, 0.315]  # converging: no longer falling fast
    assert diagnose(rows(train, val, train_accuracy=[0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94])) == []
    assert diagnose([]) == []


def test_plateau_after_the_schedule_decayed_does_not_ask_for_a_scheduler():
    from engine.training.doctor import diagnose

    losses = [1.0, 0.5, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1]
    rows = [
        {"train_loss": v * 0.5, "val_loss": v, "lr": 0.01 * (0.5**i)} for i, v in enumerate(losses)
    ]
    (note,) = diagnose(rows)
    assert note.kind == "plateau" and "Converged" in note.message
    assert "scheduler" not in note.settings
    flat = [dict(row, lr=0.01) for row in rows]
    (note,) = diagnose(flat)
    assert "scheduler" in note.settings
