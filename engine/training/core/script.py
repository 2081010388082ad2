"""What an exported ``train.py`` runs: the project's training, without Deepwire.

The python export writes ``train.py`` as the project's settings (plain literals) and a
call of ``main``; this folder is copied beside it as ``training_core/``. It trains with
the same loop and recipes as Deepwire, on the data the export saved (``data.npz``:
split and normalised as Deepwire does), prints a line per epoch, and writes the best
weights and ``metrics.csv`` (the same columns as ``deepwire train``'s).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from types import SimpleNamespace

from .data import Arrays
from .device import resolve_device, resolve_precision
from .distributed import from_environment, shutdown
from .errors import DeepwireError
from .kinds import make_recipe
from .loop import Loop


class EpochPrinter:
    """Prints one line per epoch and keeps every row for ``metrics.csv``."""

    def __init__(self, speak: bool):
        self.speak, self.rows = speak, []

    def on_epoch_end(self, loop, event) -> None:
        row = event.row()
        self.rows.append(row)
        if self.speak:
            shown = "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k != "epoch")
            best = "  *" if event.is_best else ""
            print(f"epoch {event.epoch}/{event.epochs}  {shown}{best}", flush=True)

    def on_warning(self, loop, message: str) -> None:
        if self.speak:
            print(f"warning: {message}", file=sys.stderr)


def write_rows(path: str, rows: list[dict]) -> None:
    """``rows`` as a CSV file (every column any row has), written whole then renamed."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    temporary = f"{path}.tmp"
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)


def parse_args(training: dict, here: str, kept: tuple, argv=None):
    """The command line of ``train.py``; refuses an ``--out`` over the export's weights."""
    parser = argparse.ArgumentParser(description="Train the exported network(s).")
    parser.add_argument("--epochs", type=int, default=training["epochs"])
    parser.add_argument("--batch-size", type=int, default=training["batch_size"])
    parser.add_argument("--device", default=training["device"])
    parser.add_argument(
        "--init-weights",
        default=None,
        help=f"start from these weights (default: {kept[-1]} if present)",
    )
    parser.add_argument(
        "--out",
        default=os.path.join(here, "trained.safetensors"),
        help="where to write the trained weights (metrics.csv goes beside)",
    )
    args = parser.parse_args(argv)
    for name in kept:
        if same_file(args.out, os.path.join(here, name)):
            parser.error(f"--out {args.out} is {name}, where the export keeps its weights; "
                         "write the trained weights to another file")  # fmt: skip
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be 1 or more")
    return args


def same_file(one: str, other: str) -> bool:
    """Whether two paths name one file (links followed), existing or not."""
    if os.path.realpath(one) == os.path.realpath(other):
        return True
    return os.path.exists(one) and os.path.exists(other) and os.path.samefile(one, other)


def load_arrays(path: str, meta: dict) -> Arrays:
    """The training data the export saved, with what it means (``meta``)."""
    import numpy as np

    with np.load(path) as saved:
        parts = {key: saved[key] for key in ("x_train", "y_train", "x_val", "y_val")}
    return Arrays(**parts, task=meta["task"], num_classes=meta["num_classes"],
                  target_std=meta["target_std"], augment=meta["augment"])  # fmt: skip


def make_folder(folder: str) -> None:
    """Create the folder the results go to; DeepwireError when it cannot be."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise DeepwireError(f"cannot create {folder} ({error.strerror or error})") from None


def load_start(module, path: str) -> None:
    """Give ``module`` the weights training starts from; DeepwireError when they do not
    fit or cannot be read."""
    from safetensors.torch import load_file

    try:
        module.load_state_dict(load_file(path), strict=True)
    except Exception as error:  # safetensors and torch raise several types
        lines = [line.strip() for line in str(error).strip().splitlines()] or [repr(error)]
        detail = " ".join(lines[:2])
        raise DeepwireError(f"{path}: cannot start from these weights ({detail})") from None


def main(spec: dict, training: dict, meta: dict, classes: dict, here: str,
         kept=("model.safetensors", "initial.safetensors"), argv=None) -> int:  # fmt: skip
    """Train as the project says; returns the exit status (0 done, 1 failed).

    Args:
        spec: the recipe (``kinds.make_recipe``).
        training: the checked training settings (``TrainingConfig.to_dict()``).
        meta: the data's ``task``, ``num_classes``, ``target_std`` and ``augment``.
        classes: network name -> its ``torch.nn.Module`` class (from the model files).
        here: the export folder (``data.npz``, the weights).
        kept: weight files of the export that are never written over; the last one is
            where training starts from when it is there.
    """
    import torch
    from safetensors.torch import save_file

    args = parse_args(training, here, kept, argv)
    config = SimpleNamespace(**{**training, "epochs": args.epochs,
                                "batch_size": args.batch_size, "device": args.device})  # fmt: skip
    dist = from_environment(config.device)
    speak = dist is None or dist.is_main
    printer = EpochPrinter(speak)
    failed = True
    try:
        if speak:
            make_folder(os.path.dirname(os.path.abspath(args.out)))
        torch.manual_seed(config.seed)
        models = {name: cls() for name, cls in classes.items()}
        data = load_arrays(os.path.join(here, "data.npz"), meta)
        recipe = make_recipe(spec, models, data, config)
        start = args.init_weights or os.path.join(here, kept[-1])
        if args.init_weights or os.path.exists(start):
            load_start(recipe.module, start)
        loop = Loop(recipe, config, [printer], monitor=tuple(spec["monitor"]))

        def prepare():
            device = dist.device(config.device) if dist else resolve_device(config.device)
            recipe.place(device, resolve_precision(config.precision, device), dist)

        loop.fit(prepare)
        failed = False
    except DeepwireError as error:
        print(f"train.py: {error}", file=sys.stderr)
        return 1
    finally:
        shutdown(dist, failed)
    if speak:
        state = {k: v.detach().cpu().contiguous() for k, v in recipe.module.state_dict().items()}
        save_file(state, args.out)
        metrics = os.path.join(os.path.dirname(os.path.abspath(args.out)), "metrics.csv")
        write_rows(metrics, printer.rows)
        print(f"wrote {args.out} (the weights of epoch {loop.best_epoch}) and {metrics}")
    return 0
