"""Training on a folder of PNGs too big for memory: ``deepwire train`` against a hand loop.

Writes ``--count`` (default 50,000) 64x64 RGB PNGs in 10 class folders into a temporary
folder (worker processes write them), then, in the same run:

(a) ``deepwire train`` (a subprocess) on a project reading the folder streamed, its
    cache off, a small CNN, one epoch: its images per second (training samples over the
    epoch's time, as its epoch line gives it) and its peak memory;
(b) a hand-written ``torch.utils.data`` pipeline (a per-image Dataset opening each PNG
    with PIL, a DataLoader with the same workers, the same network, batch size and
    optimizer), also one epoch in a subprocess: its images per second and peak memory,
    once with torch's default threads (as the tutorials leave them) and once with the
    threads Deepwire trains with beside its workers (the cores they leave).
    Goals: (a)/(b) at least 0.8 against the faster of the two, and (a)'s peak memory
    under 1.5 GB;
(c) ``deepwire train`` with the cache on, two epochs: the first epoch fills the cache,
    the second reads it. Goal: epoch 1 at least 3x the time of epoch 2.

Peak memory is sampled from /proc every 50 ms: the main process's resident memory, and
the proportional set size (shared pages split between the processes that map them) of
the main process and its data workers together. Without /proc it falls back to
``getrusage``'s largest child.

    .venv/bin/python benchmarks/bench_streaming.py [--count 5000] [--workers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZE, CLASSES, BATCH = 64, 10, 64
GB = 1e9


def write_image(job: tuple[str, int, int]) -> None:
    """One PNG: a class colour under noise (as costly to decode as a photo's pixels)."""
    import numpy as np
    from PIL import Image

    folder, label, index = job
    rng = np.random.default_rng(index)
    base = np.array([(label * 25) % 256, (label * 70) % 256, (label * 130) % 256], np.uint8)
    noise = rng.integers(0, 96, (SIZE, SIZE, 3), dtype=np.uint8)
    Image.fromarray(noise + base // 2).save(Path(folder) / f"c{label}" / f"{index:06d}.png")


def write_folder(root: Path, count: int) -> None:
    for label in range(CLASSES):
        (root / f"c{label}").mkdir(parents=True, exist_ok=True)
    jobs = [(str(root), index % CLASSES, index) for index in range(count)]
    with multiprocessing.Pool() as pool:
        pool.map(write_image, jobs, chunksize=500)


def network_layers():
    """The small CNN both sides train: (layer type, params) in order. It is cheap beside
    decoding a picture (a 4x4 patch convolution), so what is measured is the data's way
    to the model, not the model."""
    return [("Conv2d", {"out_channels": 8, "kernel_size": 4, "stride": 4}), ("ReLU", {}),
            ("MaxPool2d", {"kernel_size": 2}), ("Flatten", {}),
            ("Linear", {"out_features": CLASSES})]  # fmt: skip


def write_project(folder: Path, epochs: int, cache: str, workers: int) -> Path:
    from engine import project
    from tests.engine.builders import chain

    network = chain(*network_layers(), input_shape=(3, SIZE, SIZE))
    dataset = {"name": "images", "params": {
        "path": folder.name, "size": [SIZE, SIZE], "color": "rgb", "validation_split": 0.0,
        "streaming": "on", "cache": cache, "workers": workers}}  # fmt: skip
    training = {"epochs": epochs, "batch_size": BATCH, "optimizer": {"type": "Adam", "lr": 0.001}}
    path = folder.parent / f"bench_{cache}.dwire"
    project.save(project.Project({"model": network}, dataset, training), path)
    return path


class PeakMemory:
    """Samples a process tree's memory from /proc while it runs."""

    def __init__(self, pid: int):
        self.pid, self.main_rss, self.tree_pss = pid, 0, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(0.05):
            pids = [self.pid, *self._children(self.pid)]
            self.main_rss = max(self.main_rss, _read_kb(self.pid, "status", "VmRSS:"))
            pss = sum(_read_kb(pid, "smaps_rollup", "Pss:") for pid in pids)
            self.tree_pss = max(self.tree_pss, pss)

    def _children(self, pid: int) -> list[int]:
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        found = [int(child) for child in text.split()]
        return found + [grand for child in found for grand in self._children(child)]

    def stop(self) -> tuple[float, float]:
        """(main process peak RSS, tree peak PSS) in bytes."""
        self.done.set()
        self.thread.join()
        return self.main_rss * 1024, self.tree_pss * 1024


def _read_kb(pid: int, name: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run(command: list[str], cwd: Path) -> tuple[str, float, float, float]:
    """Run ``command``; its output, wall seconds, peak RSS and peak tree PSS."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    watch = PeakMemory(process.pid)
    output, _ = process.communicate()
    rss, pss = watch.stop()
    if not rss:  # no /proc: the largest child there was
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if process.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{output}")
    return output, time.perf_counter() - started, rss, pss


def epoch_seconds(output: str) -> list[float]:
    """The duration at the end of each ``epoch i/n ... | 12.3 s`` line."""
    seconds = []
    for value, unit in re.findall(r"^epoch \d+/\d+ .*\| ([\d.]+) (ms|s)\b", output, re.M):
        seconds.append(float(value) / (1000 if unit == "ms" else 1))
    return seconds


def deepwire(folder: Path, epochs: int, cache: str, workers: int) -> dict:
    path = write_project(folder, epochs, cache, workers)
    command = [sys.executable, "-m", "engine", "train", str(path), "--no-progress",
               "--out", str(folder.parent / f"run_{cache}")]  # fmt: skip
    output, wall, rss, pss = run(command, folder.parent)
    line = next(line for line in output.splitlines() if line.startswith("data: "))
    return {"epochs": epoch_seconds(output), "wall": wall, "rss": rss, "pss": pss, "data": line}


# -- (b): the hand-written pipeline, run as ``--hand FOLDER`` in a subprocess --------------
def hand(folder: Path, workers: int, threads: int | None) -> None:
    """One epoch the way the PyTorch tutorials write it; prints its seconds as JSON."""
    import numpy as np
    import torch

    if threads:
        torch.set_num_threads(threads)
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset

    files = sorted(folder.glob("*/*.png"))
    labels = [int(path.parent.name[1:]) for path in files]

    class Pictures(Dataset):
        def __len__(self):
            return len(files)

        def __getitem__(self, index):
            with Image.open(files[index]) as image:
                pixels = np.asarray(image.convert("RGB"), np.float32) / 255.0
            x = torch.from_numpy(pixels.transpose(2, 0, 1).copy())
            return (x - 0.5) / 0.25, labels[index]

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 4, stride=4), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 8 * 8, CLASSES))  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    loader = DataLoader(Pictures(), batch_size=BATCH, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)  # fmt: skip
    started = time.perf_counter()
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(json.dumps({"seconds": time.perf_counter() - started}))


def hand_run(folder: Path, workers: int, threads: int = 0) -> dict:
    command = [sys.executable, __file__, "--hand", str(folder), "--workers", str(workers),
               "--threads", str(threads)]  # fmt: skip
    output, wall, rss, pss = run(command, folder.parent)
    seconds = json.loads(output.strip().splitlines()[-1])["seconds"]
    return {"epochs": [seconds], "wall": wall, "rss": rss, "pss": pss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--workers", type=int, help="data workers (default: deepwire's own)")
    parser.add_argument("--keep", help="write the folder here and keep it")
    parser.add_argument("--hand", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from engine.data.stream import auto_workers

    workers = auto_workers() if args.workers is None else args.workers
    if args.hand:
        hand(Path(args.hand), workers, args.threads)
        return
    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-stream-"))
    folder = scratch / "pngs"
    try:
        started = time.perf_counter()
        if not folder.exists():
            write_folder(folder, args.count)
        print(f"{args.count:,} PNGs of {SIZE}x{SIZE} written in {time.perf_counter() - started:.1f} s "
              f"({os.cpu_count()} cores, {workers} data worker(s))")  # fmt: skip
        report(folder, args.count, workers)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def report(folder: Path, count: int, workers: int) -> None:
    ours = deepwire(folder, 1, "off", workers)
    print(f"(a) deepwire train: {ours['data']}")
    rate = count / ours["epochs"][0]
    print(f"(a) deepwire train  {rate:8,.0f} images/s (epoch {ours['epochs'][0]:.1f} s, run "
          f"{ours['wall']:.1f} s); peak memory {ours['rss'] / GB:.2f} GB (main process), "
          f"{ours['pss'] / GB:.2f} GB with its workers (PSS)")  # fmt: skip
    best = 0.0
    threads = max(1, (os.cpu_count() or 1) - workers)
    for label, used in (("default threads", 0), (f"{threads} thread(s)", threads)):
        theirs = hand_run(folder, workers, used)
        hand_rate = count / theirs["epochs"][0]
        best = max(best, hand_rate)
        print(f"(b) hand-written, {label}: {hand_rate:8,.0f} images/s (epoch "
              f"{theirs['epochs'][0]:.1f} s); peak memory {theirs['rss'] / GB:.2f} GB (main), "
              f"{theirs['pss'] / GB:.2f} GB with workers; deepwire/hand {rate / hand_rate:.2f}")  # fmt: skip
    print(f"    ratio {rate / best:.2f} against the faster (goal >= 0.8); deepwire's peak "
          f"{ours['rss'] / GB:.2f} GB (goal < 1.5 GB)")  # fmt: skip
    shutil.rmtree(folder.parent / f"{folder.name}_cache", ignore_errors=True)
    cached = deepwire(folder, 2, "auto", workers)
    first, second = cached["epochs"][:2]
    print(f"(c) with the cache: {cached['data']}")
    print(f"(c) epoch 1 {first:.1f} s (decodes, fills the cache), epoch 2 {second:.1f} s: "
          f"{first / second:.1f}x (goal >= 3x); peak memory {cached['rss'] / GB:.2f} GB (main), "
          f"{cached['pss'] / GB:.2f} GB with workers")  # fmt: skip


if __name__ == "__main__":
    main()
