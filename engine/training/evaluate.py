"""What a trained model does on its data, as plain NumPy for pictures of the result.

After ``Trainer.fit`` the app shows: a confusion matrix (classification), the decision
boundary over the plane (2-D point datasets such as moons, circles, spirals, xor) and
reconstructions beside their inputs (autoencoders). ``evaluate(trainer)`` computes the
ones that fit the dataset's task; each piece is also a function of its own. Torch is
imported when a function runs; nothing here knows about Qt.
"""

from __future__ import annotations

import numpy as np


def predict(model, x: np.ndarray, input_shape, batch_size: int = 1024) -> np.ndarray:
    """The model's outputs for samples ``x`` (float32 NumPy, samples along axis 0).

    Args:
        model: a compiled network (``torch.nn.Module``), on any device.
        x: samples as the dataset holds them; reshaped to ``input_shape``.
        input_shape: the network Input's shape, without the batch.
        batch_size: samples per forward pass.
    """
    import torch

    parameter = next(iter(model.parameters()), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size]))
                chunk = chunk.reshape((len(chunk), *input_shape)).to(device)
                outputs.append(model(chunk).float().cpu().numpy())
    finally:
        model.train(was_training)
    if not outputs:
        return np.zeros((0,), np.float32)
    return np.concatenate(outputs)


def class_probabilities(scores: np.ndarray) -> np.ndarray:
    """Each sample's probability per class (float64, ``(samples, classes)``).

    One output is a logit of class 1 (``BCEWithLogitsLoss``): ``[1 - p, p]``. Rows that
    already are probabilities (a network ending in Softmax) are kept; anything else
    (logits, or LogSoftmax's log-probabilities) goes through softmax.
    """
    scores = np.asarray(scores, np.float64).reshape(len(scores), -1)
    if scores.shape[1] == 1:
        positive = 1.0 / (1.0 + np.exp(-np.clip(scores[:, 0], -700, 700)))
        return np.stack([1.0 - positive, positive], axis=1)
    if len(scores) and (scores >= 0).all() and np.allclose(scores.sum(axis=1), 1.0, atol=1e-4):
        return scores
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """``matrix[true, predicted]`` counts (int64, ``classes`` x ``classes``)."""
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predicted.astype(np.int64)), 1)
    return matrix


def decision_grid(model, x: np.ndarray, input_shape, steps: int = 120):
    """The predicted class over a ``steps`` x ``steps`` grid covering 2-D points ``x``.

    Returns:
        (classes, extent): ``classes[row, col]`` for y rows and x columns (int64), and
        ``extent = (x_min, x_max, y_min, y_max)`` of the grid.
    """
    low, high = x.min(axis=0), x.max(axis=0)
    margin = (high - low) * 0.1 + 1e-6
    low, high = low - margin, high + margin
    xs = np.linspace(low[0], high[0], steps, dtype=np.float32)
    ys = np.linspace(low[1], high[1], steps, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    scores = predict(model, points, input_shape)
    classes = class_probabilities(scores).argmax(axis=1).reshape(steps, steps)
    return classes, (float(low[0]), float(high[0]), float(low[1]), float(high[1]))


def reconstructions(model, x: np.ndarray, input_shape, count: int = 8):
    """The first ``count`` samples of ``x`` and the model's outputs, both shaped like ``x``."""
    inputs = np.asarray(x[:count], np.float32)
    outputs = predict(model, inputs, input_shape).reshape(inputs.shape)
    return inputs, outputs


def evaluated_part(data) -> tuple[str, np.ndarray, np.ndarray]:
    """``(part, x, y)``: the validation samples, or the training ones when the data has
    no validation part (``validation_split`` 0); ``part`` says which."""
    if len(data.x_val):
        return "validation", data.x_val, data.y_val
    return "training", data.x_train, data.y_train


def evaluate(trainer) -> dict:
    """Pictures of the result that fit the trainer's dataset, computed on validation data.

    Returns:
        A dict with any of ``confusion`` (matrix), ``class_names``, ``mistakes`` (the
        ``engine.insight.mistakes.MistakesReport``), ``boundary`` (``{"classes",
        "extent", "points", "labels"}``) and ``reconstruction`` (``{"inputs",
        "outputs"}``); empty when there is nothing to show (a GAN: its live view and
        ``deepwire generate`` show what it makes).
    """
    from engine.insight.mistakes import find_mistakes
    from engine.training.core.adversarial import GENERATION

    if trainer.recipe.task == GENERATION:
        return {}
    data, model, shape = trainer.dataset, trainer.model, trainer.input_shape
    _, x, y = evaluated_part(data)
    result: dict = {}
    if data.task == "classification" and data.num_classes:
        report = find_mistakes(model, data, shape)
        result["confusion"] = report.confusion()
        result["class_names"] = list(data.class_names)
        result["mistakes"] = report
        if data.sample_shape == (2,) and data.dtype == "float32":
            classes, extent = decision_grid(model, x, shape)
            result["boundary"] = {"classes": classes, "extent": extent, "points": x, "labels": y}
    elif data.task == "reconstruction" and data.dtype == "float32":
        inputs, outputs = reconstructions(model, x, shape)
        result["reconstruction"] = {"inputs": inputs, "outputs": outputs}
    return result
