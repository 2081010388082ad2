"""The progress bar of ``deepwire train`` on a terminal: batches, pace and time left."""

import io

from engine.training.callbacks import ConsoleReporter, progress_line
from engine.training.core.events import BatchEnd, EpochEnd, TrainStart


def test_the_bar_says_how_far_the_epoch_is_and_how_long_the_rest_takes():
    event = BatchEnd(epoch=2, batch=12, batches=48, step=60, loss=0.421, lr=0.01,
                     samples_per_s=5120.0)  # fmt: skip
    line = progress_line(event, epochs=10, elapsed=3.0)
    assert line == (
        "epoch 2/10 [######..................] 12/48 loss 0.4210 5,120 samples/s ETA 9.0 s"
    )
    assert progress_line(event, 10, elapsed=0.1).endswith("ETA 300 ms")


def test_the_bar_goes_to_a_terminal_only_and_epoch_lines_stay_plain():
    start = TrainStart(3, 1, 4, 256, 64, "cpu", "fp32", 100, "classification", "cross entropy")
    batch = BatchEnd(1, 4, 4, 4, 0.5, 0.01, 1000.0)
    end = EpochEnd(1, 3, {"loss": 0.5}, {"loss": 0.6}, 0.01, 0.25, 1024.0, True, {})
    for bar in (True, False):
        out, err = io.StringIO(), io.StringIO()
        reporter = ConsoleReporter(out, err, bar=bar)
        reporter.on_train_start(None, start)
        reporter.on_epoch_start(None, 1)
        reporter.on_batch_end(None, batch)
        reporter.on_epoch_end(None, end)
        assert ("ETA" in err.getvalue()) is bar
        assert "\r" not in out.getvalue()
        assert out.getvalue().splitlines()[-1].startswith("epoch 1/3 train loss 0.5 | val loss 0.6")
