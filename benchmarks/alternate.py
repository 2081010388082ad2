"""Timing the Trainer against a hand-written loop, epoch by epoch, in one process.

Epochs alternate: each Trainer epoch is followed by one hand-written epoch, so that the
load of a shared machine hits both alike. The first pair warms up and is left out.
"""

from __future__ import annotations

import statistics
import time

import torch

from engine.training import Callback, Trainer


def sync(device) -> None:
    """Wait for the GPU's queued work, so that a timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize()


class Alternate(Callback):
    """Times each Trainer epoch, then runs and times ``hand(epoch)``."""

    def __init__(self, hand, device):
        self.hand, self.device = hand, device
        self.trainer_times: list[float] = []
        self.hand_times: list[float] = []

    def on_epoch_start(self, trainer, epoch):
        sync(self.device)
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer, event):
        sync(self.device)
        self.trainer_times.append(time.perf_counter() - self.start)
        start = time.perf_counter()
        self.hand(event.epoch)
        sync(self.device)
        self.hand_times.append(time.perf_counter() - start)


def alternate(networks, data, config: dict, hand, device) -> tuple[list, list]:
    """Train ``config["epochs"]`` epochs, each followed by ``hand(epoch)``; the epoch
    times of both after the first: (trainer's, hand loop's)."""
    timer = Alternate(hand, device)
    Trainer(networks, data, config, [timer]).fit()
    return timer.trainer_times[1:], timer.hand_times[1:]


def ratios(trainer_times: list, hand_times: list) -> tuple[float, float, float, float]:
    """(trainer median, hand median, median ratio, fastest-epoch ratio)."""
    t, h = statistics.median(trainer_times), statistics.median(hand_times)
    return t, h, t / h, min(trainer_times) / min(hand_times)
