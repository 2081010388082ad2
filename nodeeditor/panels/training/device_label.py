"""Where training runs, in words, and whether the network will fit there.

``describe(device)`` reads ``CUDA: NVIDIA H100 (1.2 of 80 GB in use)``, ``Apple MPS``
or ``CPU (16 threads)``. It imports torch, so the panel calls it once training has
started (the worker thread has imported torch by then). ``memory_warning`` compares
the analysis' memory estimate at a batch size with the free GPU memory (when torch is
already loaded and a GPU is in use) or with the available RAM.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtWidgets import QLabel

from engine.errors import DeepwireError

GB = 1024**3


def describe(device: str) -> str:
    """A line about ``device`` (``cpu``, ``cuda:0``, ``mps``)."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index or 0
        name = torch.cuda.get_device_name(index)
        used = torch.cuda.memory_allocated(index) / GB
        total = torch.cuda.get_device_properties(index).total_memory / GB
        return f"CUDA: {name} ({used:.2f} of {total:.0f} GB in use)"
    if device.startswith("mps"):
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"


def available_memory(device: str) -> tuple[int | None, str]:
    """Bytes free for training on ``device`` and what they are (``GPU``/``RAM``)."""
    torch = sys.modules.get("torch")  # never import torch just for a warning
    wants_gpu = device.startswith("cuda") or device == "auto"
    if torch is not None and wants_gpu:
        # the training thread may be importing torch right now: a partly initialised
        # module has no ``cuda`` yet, and then RAM is what can be measured
        try:
            if torch.cuda.is_available():
                free, _ = torch.cuda.mem_get_info()
                return int(free), "free GPU memory"
        except (AttributeError, RuntimeError):
            pass
    try:
        pages, size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None, "RAM"
    return int(pages * size), "available RAM"


def memory_warning(analysis, batch_size: int, optimizer: str, device: str) -> str:
    """A sentence when the network will not fit at ``batch_size``, else empty."""
    if analysis is None or analysis.errors:
        return ""
    try:
        need = analysis.memory_estimate(batch_size, optimizer).total
    except DeepwireError:  # an analysis of an older network (a node renamed since)
        return ""
    free, what = available_memory(device)
    if free is None or need <= free:
        return ""
    return (
        f"Training needs about {need / GB:.1f} GB at batch size {batch_size} but only "
        f"{free / GB:.1f} GB of {what} is left: lower the batch size or make the network "
        "smaller."
    )


class DeviceLabel(QLabel):
    """The device line under the Train buttons."""

    def __init__(self, parent=None):
        super().__init__("Device: chosen when training starts", parent)
        self.setObjectName("training_device")
        self.device = ""

    def set_device(self, device: str) -> None:
        """Show ``device`` (from ``TrainStart.device``) and remember it for updates."""
        self.device = device
        self.update_usage()

    def update_usage(self) -> None:
        """Refresh the memory in use (CUDA); cheap for the CPU."""
        if self.device:
            self.setText("Device: " + describe(self.device))

    def clear_device(self) -> None:
        """Training ended: keep the text, stop updating."""
        self.device = ""
