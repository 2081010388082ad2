"""Transfer learning on digits: epochs (and seconds) to a validation accuracy, from scratch
versus from the weights learned on the digits 0-4 with the convolutions frozen.

    .venv/bin/python -m benchmarks.bench_transfer [--target 0.95] [--max-epochs 40]

Step 1 trains ``transfer_digits_source.dwire`` (digits 0-4, its own epochs). Then the
digits 5-9 network (``transfer_digits_target.dwire``) trains twice with the same
settings until the target accuracy: once from fresh weights with every layer trainable,
once from step 1's weights with conv1, bn1 and conv2 frozen.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from engine import project
from engine.data import load_dataset
from engine.training import Callback, Trainer
from engine.weights import load_matching_weights

EXAMPLES = Path(__file__).parents[1] / "resources" / "examples"


class _Until(Callback):
    """Stops training at the first epoch whose val_accuracy reaches ``target``."""

    def __init__(self, target: float):
        self.target, self.epoch, self.seconds, self.started = target, None, None, None

    def on_train_start(self, trainer, event) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, trainer, event) -> None:
        if self.epoch is None and event.val.get("accuracy", 0.0) >= self.target:
            self.epoch, self.seconds = event.epoch, time.perf_counter() - self.started
            trainer.stop()


def _train(path: Path, epochs: int, target: float, init=None, frozen=True):
    proj = project.load(path)
    network = proj.network
    if not frozen:
        for node in network.nodes:
            network.set_trainable(node.id, True)
    settings = {**proj.training, "epochs": epochs}
    until = _Until(target)
    trainer = Trainer(network, load_dataset(proj.dataset, path.parent), settings, [until])
    if init is not None:
        load_matching_weights(trainer.model, init)
    trainer.fit()
    return trainer, until


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--max-epochs", type=int, default=40)
    args = parser.parse_args()
    source, _ = _train(EXAMPLES / "transfer_digits_source.dwire", 15, 2.0)
    learned = {k: v.detach().clone() for k, v in source.model.state_dict().items()}
    print(f"source (digits 0-4): best val_accuracy {source.best_row.get('val_accuracy'):.3f}")
    target = EXAMPLES / "transfer_digits_target.dwire"
    runs = {
        "from scratch, all layers trainable": _train(target, args.max_epochs, args.target,
                                                     frozen=False),
        "transferred, convolutions frozen": _train(target, args.max_epochs, args.target,
                                                   init=learned),
        "transferred, all layers fine-tuned": _train(target, args.max_epochs, args.target,
                                                     init=learned, frozen=False),
    }  # fmt: skip
    print(f"epochs to val_accuracy >= {args.target:.0%} on digits 5-9 (max {args.max_epochs}):")
    for name, (trainer, until) in runs.items():
        reached = (
            f"{until.epoch} epochs, {until.seconds:.2f} s"
            if until.epoch
            else f"not reached (best {trainer.best_row.get('val_accuracy', 0):.3f})"
        )
        print(f"  {name:<38} {reached}")
    scratch, transfer = (u.epoch for _, u in list(runs.values())[:2])
    if scratch and transfer:
        print(f"ratio scratch/transfer epochs: {scratch / transfer:.2f}")


if __name__ == "__main__":
    main()
