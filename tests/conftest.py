"""Shared fixtures. Qt tests run offscreen; the engine tests never import Qt."""

import atexit
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# pytest-xdist runs one worker per core: torch's own threads on top of those oversubscribe
# the cores, and its spinning threads then make small training steps 5-10x slower.
# Child processes (deepwire train, torchrun) inherit the setting.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _scratch_folder(variable: str, prefix: str) -> None:
    """Point ``variable`` at a fresh folder that goes when the test process ends."""
    if variable not in os.environ:
        folder = tempfile.mkdtemp(prefix=prefix)
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ[variable] = folder


# recovery copies of unsaved test windows never go to the user's own recovery folder
_scratch_folder("DEEPWIRE_RECOVERY_DIR", "deepwire-recovery-")
# nor do training runs of unsaved projects go to the user's own runs folder
_scratch_folder("DEEPWIRE_RUNS_DIR", "deepwire-runs-")

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


@pytest.fixture(scope="session", autouse=True)
def examples_stay_untouched():
    """Tests that train must train copies: no run folder may appear beside the examples."""
    before = sorted(EXAMPLES.iterdir())
    yield
    assert sorted(EXAMPLES.iterdir()) == before, "a test wrote into resources/examples"


_MODULES_WHEN_FROZEN = [0]


@pytest.fixture(autouse=True)
def freeze_what_imports_made():
    """Keep the garbage collector off the objects that imports made, as the app does.

    The app freezes what its warm-up imported (``gc.freeze`` in nodeeditor/warmup.py),
    so its full collections (``MainThreadGC.hold``, whenever it starts a thread) skip
    the modules. Windows built by tests never run that warm-up, and a test process holds
    far more (torch, Qt, hypothesis, every test module: over 400,000 objects, half a
    second a collection). So after new imports, what exists before a test is frozen too;
    what the tests make is collected as before (the app tests run a third faster).

    Only the first test collects before: a collection forced between tests was seen to
    crash the process (in test_canvas.py, freeing canvas items of an earlier test).
    """
    if not _MODULES_WHEN_FROZEN[0]:
        gc.collect()
    if len(sys.modules) != _MODULES_WHEN_FROZEN[0]:
        gc.freeze()
        _MODULES_WHEN_FROZEN[0] = len(sys.modules)


def pytest_collection_modifyitems(config, items):
    """Skip the ``cuda``-marked tests, saying why, on machines without a CUDA GPU."""
    cuda_tests = [item for item in items if item.get_closest_marker("cuda")]
    if not cuda_tests:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; this machine has none")
    for item in cuda_tests:
        item.add_marker(skip)
