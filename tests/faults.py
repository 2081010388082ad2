"""Faults the training tests inject: a disk that fills up under the checkpoints."""

from __future__ import annotations

import contextlib
import errno
from unittest import mock


@contextlib.contextmanager
def checkpoints_fill_the_disk(after: int):
    """safetensors writes into a ``checkpoints`` folder fail with ENOSPC after ``after``.

    Other writes (the final ``weights.safetensors``) go through. The patch is global, so
    it also reaches a training thread started inside the ``with``.
    """
    import safetensors.torch

    real_save = safetensors.torch.save_file
    written = [0]

    def save_file(tensors, filename, *args, **kwargs):
        if "checkpoints" in str(filename):
            written[0] += 1
            if written[0] > after:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(tensors, filename, *args, **kwargs)

    with mock.patch.object(safetensors.torch, "save_file", save_file):
        yield
