"""The training doctor: a model still learning, divergence only when it lasts, and
sentences in the words of the app's forms."""

import re

from engine.training.config import LABELS, label
from engine.training.doctor import diagnose


def rows(train, val, **extra):
    history = []
    for i, (t, v) in enumerate(zip(train, val)):
        row = {"epoch": i + 1, "train_loss": t, "val_loss": v, "lr": 0.001}
        row.update({k: values[i] for k, values in extra.items()})
        history.append(row)
    return history


# 10 epochs of a small MLP on digits with a low learning rate: 81 %, loss still falling fast
TRAIN = [2.25, 2.05, 1.86, 1.66, 1.47, 1.29, 1.13, 0.99, 0.87, 0.77]
VAL = [2.20, 2.00, 1.81, 1.62, 1.44, 1.27, 1.12, 0.99, 0.88, 0.79]
ACCURACY = [0.2, 0.35, 0.45, 0.55, 0.62, 0.68, 0.72, 0.76, 0.79, 0.81]


def test_a_run_that_ends_while_the_loss_still_falls_fast_is_still_learning():
    (note,) = diagnose(rows(TRAIN, VAL, val_accuracy=ACCURACY))
    assert note.kind == "still_learning"
    assert "81% accuracy" in note.message and "validation loss fell by 29%" in note.message
    assert "Raise Epochs" in note.message and "Learning rate" in note.message
    assert note.settings == ["epochs", "optimizer.lr"]


def test_while_training_a_falling_loss_is_no_news():
    assert diagnose(rows(TRAIN, VAL, val_accuracy=ACCURACY), final=False) == []


def test_a_loss_that_rose_a_little_near_its_best_and_came_back_is_not_divergence():
    train = [1.0, 0.5, 0.3, 0.1, 0.12, 0.16]  # seen mid-run; the next epochs came back down
    assert [n.kind for n in diagnose(rows(train, train), final=False)] != ["divergence"]
    back = [*train, 0.09, 0.085]
    assert all(n.kind != "divergence" for n in diagnose(rows(back, back)))


def test_a_spike_that_recovers_is_not_divergence_but_a_sustained_rise_is():
    spike = [1.0, 0.6, 2.5, 4.0, 0.5, 0.45]
    assert all(n.kind != "divergence" for n in diagnose(rows(spike, spike)))
    rising = [1.0, 0.6, 0.5, 1.5, 4.0]
    (note,) = diagnose(rows(rising, rising))
    assert note.kind == "divergence" and "has grown for epochs" in note.message
    (nan,) = diagnose(rows([1.0, float("nan")], [1.0, 1.0]))
    assert nan.kind == "divergence" and "NaN" in nan.message


def test_every_note_speaks_with_the_labels_of_the_form():
    histories = [
        rows([1.0, 0.8, 1.5, 3.0, 9.0], [1.0, 0.9, 1.6, 3.2, 9.5]),  # divergence
        rows([1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05], [1.0, 0.7, 0.6, 0.65, 0.7, 0.8, 0.9]),
        rows([2.3, 2.29, 2.29, 2.29], [2.3, 2.29, 2.29, 2.29], train_accuracy=[0.1] * 4),
        rows(TRAIN, VAL),
        rows([1.0, 0.5, 0.3, 0.2, 0.15, 0.12, 0.1, 0.09], [1.0, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]),
    ]
    kinds = set()
    for history in histories:
        (note,) = diagnose(history)
        kinds.add(note.kind)
        keys = re.findall(
            r"\b(?:optimizer|dataset)\.\w+|\bgrad_clip\b|\bearly_stopping\b", note.message
        )
        assert keys == [], f"{note.kind} names setting keys: {keys}"
        for key in note.settings:
            if key in LABELS:
                assert label(key) in note.message, (note.kind, key)
    assert kinds == {"divergence", "overfitting", "underfitting", "still_learning", "plateau"}


def test_labels_come_from_one_table():
    assert label("optimizer.lr") == "Learning rate"
    assert label("dataset.n_samples") == "N samples"  # a key without a label reads as words


def _layers(norms: list[float]) -> list[dict]:
    return [{"epoch": 5, "node": f"fc{i + 1}", "weight_norm": 1.0, "grad_norm": g,
             "update_ratio": 0.01} for i, g in enumerate(norms)]  # fmt: skip


def test_vanishing_and_exploding_gradients_are_named_where_they_start():
    history = [{"epoch": e, "train_loss": 1.0 / e} for e in range(1, 6)]
    fading = _layers([1e-9, 1e-8, 1e-6, 1e-4, 1e-3, 0.3])
    (vanishing, *_) = diagnose(history, layers=fading)
    assert vanishing.kind == "vanishing_gradients"
    assert vanishing.message.startswith(
        "Vanishing gradients: the first layer (fc1) gets 3.3e-09 of the gradient the last one "
        "(fc6) gets; they fade from fc5 back"
    )
    assert "ReLU instead of Sigmoid" in vanishing.message and "ReLU" in vanishing.settings
    (exploding, *_) = diagnose(history, layers=_layers([5e4, 300.0, 2.0, 1.0]))
    assert exploding.kind == "exploding_gradients" and "grow from fc2 back" in exploding.message
    assert "Gradient clipping" in exploding.message
    healthy = diagnose(history, layers=_layers([0.01, 0.05, 0.1, 0.3]))
    assert not any(n.kind.endswith("_gradients") for n in healthy)
    assert not any(n.kind.endswith("_gradients") for n in diagnose(history, layers=fading[:2]))
