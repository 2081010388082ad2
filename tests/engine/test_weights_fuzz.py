"""Damaged weights and checkpoint files: one sentence, never a traceback, nothing loaded.

A good ``.safetensors``, ``.pt`` state_dict and checkpoint state file are written, then
hypothesis damages one (truncation, flipped bits, spliced random bytes) and it is read
the ways users read them: ``read_weights`` and ``load_weights`` (Export, Load
Weights…, ``--init-weights``) and a checkpoint for ``--resume``. Only the engine's own
errors may come out, and a failed load leaves the module's weights as they were.
"""

from __future__ import annotations

import io
from collections import Counter

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save

from engine.errors import DeepwireError
from engine.training import checkpoint as ckpt
from engine.weights import load_weights
from tests.damage import WAYS, damage
from tests.reliability_log import scaled, write_case_counts

OUTCOMES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts({f"damaged weights files: {k}": n for k, n in OUTCOMES.items()})


def module():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))


def _pt(obj) -> bytes:
    stream = io.BytesIO()
    torch.save(obj, stream)
    return stream.getvalue()


STATE = {k: v.clone() for k, v in module().state_dict().items()}
GOOD = {
    "safetensors": save({k: v.contiguous() for k, v in STATE.items()}),
    "pt": _pt(STATE),
    "state.pt": _pt({"epoch": 3, "history": [{"epoch": 1, "train_loss": 0.5}], "step": 30}),
}


@st.composite
def damaged(draw):
    kind = draw(st.sampled_from(sorted(GOOD)))
    return kind, damage(draw, GOOD[kind], draw(st.sampled_from(WAYS)))


@settings(max_examples=scaled(300), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(case=damaged())
def test_damaged_weights_give_one_sentence_and_load_nothing(tmp_path_factory, case):
    kind, data = case
    folder = tmp_path_factory.mktemp("weights")
    path = folder / f"w.{kind}"
    path.write_bytes(data)
    target = module()
    before = {k: v.clone() for k, v in target.state_dict().items()}
    try:
        if kind == "state.pt":
            state = ckpt.load_state(path, "cpu")
            assert isinstance(state, dict)
        else:
            load_weights(target, path)
    except DeepwireError as error:
        message = str(error)
        assert "\n" not in message and "Traceback" not in message
        assert "w." in message  # names the file
        after = target.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before)  # nothing half-loaded
        OUTCOMES["refused"] += 1
        return
    OUTCOMES["loaded"] += 1
