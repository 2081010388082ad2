"""A run keeps its convolutions' filters as it started, to set beside the learned ones."""

from pathlib import Path

import numpy as np

from engine.project import load
from engine.training import TrainingSession

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_a_session_keeps_the_filters_the_run_started_from():
    session = TrainingSession(load(EXAMPLES / "digits_cnn.dwire"), overrides={"epochs": 1})
    before = {k: v.clone() for k, v in session.trainer.model.state_dict().items()}
    session.fit()
    start = session.start_filters.filters
    assert list(start) == ["conv1.weight", "conv2.weight"]
    assert np.array_equal(start["conv1.weight"], before["conv1.weight"].numpy())
    assert start["conv2.weight"].shape == (32, 16, 3, 3)  # the channels a picture shows
    learned = session.kept_state()["conv1.weight"].numpy()
    assert np.abs(learned - start["conv1.weight"]).max() > 0.01
