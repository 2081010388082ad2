"""Damaged weights and checkpoint files: one sentence, never a traceback, nothing loaded.

A good ``.safetensors``, ``.pt`` state_dict and checkpoint state file are written, then
hypothesis damages one (truncation, flipped bits, spliced random bytes) and it is read
the ways users read them: ``read_weights`` and ``load_weights`` (Export, Load
Weights…, ``--init-weights``) and a checkpoint for ``--resume``. Only the engine's own
errors may come out, and a failed load leaves the module's weights as they were. A
whole checkpoint (last and best weights, state with optimizer) with one file damaged is
read as ``--resume`` reads it: it resumes whole, or the sentence names that file.
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


def _checkpoint_files() -> dict[str, bytes]:
    """The four files of a whole checkpoint of ``module()`` trained one Adam step."""
    net = module()
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.randn(4, 4)).sum().backward()
    optimizer.step()
    row = {"epoch": 1, "train_loss": 0.5}
    state = {"epoch": 1, "step": 1, "history": [row], "best_epoch": 1, "best_value": 0.5,
             "best_row": row, "optimizer": optimizer.state_dict()}  # fmt: skip
    weights = save({k: v.contiguous() for k, v in net.state_dict().items()})
    return {"last.safetensors": weights, "best.safetensors": weights,
            "last.state.pt": _pt(state), "best.state.pt": _pt(state)}  # fmt: skip


CHECKPOINT = _checkpoint_files()


@settings(max_examples=scaled(150), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    data=st.data(), name=st.sampled_from(["last.safetensors", "best.safetensors", "last.state.pt"])
)
def test_a_checkpoint_with_any_file_damaged_resumes_whole_or_is_refused_naming_it(
    tmp_path_factory, data, name
):
    folder = tmp_path_factory.mktemp("checkpoint")
    for file_name, content in CHECKPOINT.items():
        (folder / file_name).write_bytes(content)
    way = data.draw(st.sampled_from(WAYS))
    (folder / name).write_bytes(damage(data.draw, CHECKPOINT[name], way))
    target = module()
    optimizer = torch.optim.Adam(target.parameters())
    try:  # as Trainer._resume reads it
        saved = ckpt.read_checkpoint(folder / "last", target, "cpu")
        ckpt.check_optimizer_state(saved.state.get("optimizer"), optimizer, saved.path)
        ckpt.restore_optimizer(
            lambda: optimizer.load_state_dict(saved.state["optimizer"]), saved.path
        )
        target.load_state_dict(saved.weights)
    except DeepwireError as error:
        message = str(error)
        assert "\n" not in message and name in message  # names the damaged file
        OUTCOMES["refused"] += 1
        return
    OUTCOMES["loaded"] += 1
