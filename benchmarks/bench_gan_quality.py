"""What trained GAN examples generate: modes covered on 2-D sets, recognisable digits.

For each project given (default: ``resources/examples/gan_rings.dwire`` and
``gan_digits.dwire``) it runs ``deepwire train FILE --out TMP`` in a subprocess and
times it (wall clock, printed with the machine's core count and load average), then
``deepwire generate FILE --weights TMP/weights.safetensors -n 1000 -o TMP/s.npy --seed 1``
and measures the samples:

- 2-D sets with known modes (``rings``, ``grid``): ``engine.data.modes.dataset_coverage``
  gives the modes that hold a fair share (5 % each for the 8 of ``rings``; goal: 7 of 8,
  and the same part of ``grid``'s 25) and the share of samples within 3 standard
  deviations of a mode (goal: 70 % or more). ``rings`` should train in under 3 minutes
  on 2 cores.
- ``digits``: a small CNN trained in plain PyTorch on all 1,797 real digits (its accuracy
  on a held-out fifth is printed first) labels the generated images; goal: at least half
  of them with confidence 0.9 or more, and those confident ones cover 9 of the 10 digits.

Each goal is printed beside the measured value with PASS or MISS; the exit status is 1
only when a project could not be trained or sampled. ``--device`` goes to
``deepwire train``; ``--precision`` (bf16, fp16: CUDA only) is a project setting, so
the project is trained from a temporary copy with ``training.precision`` set.
``--threads N`` sets OMP_NUM_THREADS for training: on a machine other work shares,
torch's default (a thread per core) measured epochs of ``gan_rings`` 4 to 60 times
slower than one thread did, as its threads wait for each other.

    .venv/bin/python benchmarks/bench_gan_quality.py [FILE...] [--device cuda]
        [--precision bf16] [--epochs N] [--threads N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from engine import project as project_file
from engine.data.modes import MODE_DATASETS, dataset_coverage
from engine.data.registry import resolve_paths

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [
    ROOT / "resources/examples/gan_rings.dwire",
    ROOT / "resources/examples/gan_digits.dwire",
]
SAMPLES, SEED = 1000, 1
MODE_PART, NEAR_GOAL = 7 / 8, 0.70  # modes covered (7 of 8 for rings), share near a mode
CONFIDENT, CONFIDENT_GOAL, DIGITS_GOAL = 0.9, 0.5, 9
RINGS_SECONDS = 180.0  # the goal, on 2 cores
FAILED = "failed"  # a run that could not be measured (the exit status is then 1)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(what: str, measured: str, goal: str, ok: bool) -> bool:
    print(f"  {what:<34} {measured:<14} goal {goal:<14} {verdict(ok)}")
    return ok


def deepwire(*args: str) -> list[str]:
    """The command line that runs ``deepwire ARGS`` with this Python's engine."""
    script = Path(sys.executable).parent / "deepwire"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "engine"]
    return [*head, *args]


def run(command: list[str], threads: int | None = None) -> subprocess.CompletedProcess:
    """Run ``command`` from the repository root (with ``threads`` CPU threads for torch
    when given); its output is captured."""
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip


def machine() -> str:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load}"


def project_copy(source: Path, folder: Path, precision: str | None, epochs: int | None) -> Path:
    """``source`` itself, or a copy in ``folder`` with ``precision``/``epochs`` set (file
    datasets keep pointing at their data)."""
    if precision is None and epochs is None:
        return source
    proj = project_file.load(source)
    training = dict(proj.training or {})
    if precision is not None:
        training["precision"] = precision
    if epochs is not None:
        training["epochs"] = epochs
    proj.training = training
    if proj.dataset is not None:
        section = dict(proj.dataset)
        params = section.get("params") or {}
        section["params"] = resolve_paths(section.get("name"), params, source.parent)
        proj.dataset = section
    copy = folder / source.name
    project_file.save(proj, copy)
    return copy


def train_and_generate(path: Path, run_dir: Path, device: str | None,
                       threads: int | None) -> tuple[Path | None, bool]:  # fmt: skip
    """Train ``path`` into ``run_dir`` and sample from it: the samples' file (None when
    either step failed) and whether training took no longer than its goal."""
    command = deepwire("train", str(path), "--out", str(run_dir), "--no-progress")
    if device:
        command += ["--device", device]
    print(f"  machine before training: {machine()}")
    started = time.perf_counter()
    trained = run(command, threads)
    seconds = time.perf_counter() - started
    print(f"  machine after training:  {machine()}")
    print(f"  $ {' '.join(command[1:])}")
    if trained.returncode != 0:
        print(f"  training failed (exit {trained.returncode}): {trained.stderr.strip()[-800:]}")
        return None, False
    print(f"  trained in {seconds:.1f} s wall clock")
    in_time = True
    if proj_dataset(path) == "rings":
        in_time = report("train time (2 cores)", f"{seconds:.1f} s", f"< {RINGS_SECONDS:.0f} s",
                         seconds < RINGS_SECONDS)  # fmt: skip
    samples = run_dir / "s.npy"
    weights = str(run_dir / "weights.safetensors")
    command = deepwire("generate", str(path), "--weights", weights, "-n", str(SAMPLES),
                       "-o", str(samples), "--seed", str(SEED))  # fmt: skip
    generated = run(command)
    if generated.returncode != 0:
        print(f"  generate failed (exit {generated.returncode}): {generated.stderr.strip()}")
        return None, False
    return samples, in_time


def proj_dataset(path: Path) -> str | None:
    dataset = project_file.load(path).dataset
    return dataset.get("name") if dataset else None


def measure_modes(name: str, params: dict, samples: np.ndarray) -> bool:
    """Modes covered and the share of samples near a mode, against the goals."""
    coverage = dataset_coverage(name, params, samples)
    modes = len(coverage.per_mode_share)
    wanted = math.ceil(MODE_PART * modes)
    least = min(coverage.per_mode_share)
    shares = " ".join(f"{s:.0%}" for s in coverage.per_mode_share)
    print(f"  share of the samples per mode: {shares}")
    ok = report("modes with a fair share", f"{coverage.covered} of {modes}",
                f">= {wanted}", coverage.covered >= wanted)  # fmt: skip
    ok &= report("samples within 3 std of a mode", f"{coverage.near_share:.1%}",
                 f">= {NEAR_GOAL:.0%}", coverage.near_share >= NEAR_GOAL)  # fmt: skip
    print(f"  (least-covered mode: {least:.1%} of the samples)")
    return ok


def digit_classifier(epochs: int = 30, seed: int = 0):
    """A small CNN trained on all the real digits (pixels 0-16 divided by 16).

    Its accuracy on a held-out fifth (from a first fit on the other four fifths) is
    printed, so that a weak classifier is not mistaken for weak samples.
    """
    import torch

    from engine.data.builtin import bundled

    arrays = bundled("digits")
    x = torch.from_numpy((arrays["images"] / 16.0).astype(np.float32)[:, None])
    y = torch.from_numpy(arrays["target"].astype(np.int64))
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    held, kept = order[: len(x) // 5], order[len(x) // 5 :]
    check = fit_cnn(x[kept], y[kept], epochs, seed)
    with torch.no_grad():
        accuracy = (check(x[held]).argmax(1) == y[held]).float().mean().item()
    print(f"  digit classifier: {accuracy:.1%} accuracy on {len(held)} held-out real digits")
    return fit_cnn(x, y, epochs, seed)


def fit_cnn(x, y, epochs: int, seed: int):
    """Conv 16 -> Conv 32 -> pool -> Linear 10, Adam, in eval mode when returned."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 4 * 4, 10),
    )  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(x)).split(64):
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def measure_digits(samples: np.ndarray, classifier) -> bool:
    """The share of confidently labelled images and the digits they cover, against the goals."""
    import torch

    images = torch.from_numpy(samples.astype(np.float32).reshape(len(samples), 1, 8, 8) / 16.0)
    with torch.no_grad():
        probability = torch.softmax(classifier(images), dim=1)
    confidence, label = probability.max(dim=1)
    sure = confidence >= CONFIDENT
    digits = np.bincount(label[sure].numpy(), minlength=10)
    print(f"  pixel range of the samples: {samples.min():.1f} to {samples.max():.1f} (data: 0-16)")
    print("  confident images per digit: " + " ".join(f"{d}:{n}" for d, n in enumerate(digits)))
    share = float(sure.float().mean())
    ok = report(f"images with confidence >= {CONFIDENT}", f"{share:.1%}",
                f">= {CONFIDENT_GOAL:.0%}", share >= CONFIDENT_GOAL)  # fmt: skip
    covered = int((digits > 0).sum())
    ok &= report("digits among the confident ones", f"{covered} of 10", f">= {DIGITS_GOAL}",
                 covered >= DIGITS_GOAL)  # fmt: skip
    return ok


def evaluate(path: Path, args, work: Path, classifier_cache: dict) -> bool | str | None:
    """Train, generate and measure one project: whether it reaches every goal, None
    when it has no measure, ``FAILED`` when training or generating failed."""
    print(f"\n{path}")
    folder = work / path.stem
    folder.mkdir(parents=True, exist_ok=True)
    trained = project_copy(path, folder, args.precision, args.epochs)
    proj = project_file.load(trained)
    name = (proj.dataset or {}).get("name")
    if name not in (*MODE_DATASETS, "digits"):
        print(f"  no quality measure for dataset {name!r} (measured: rings, grid, digits)")
        return None
    samples_file, in_time = train_and_generate(trained, folder / "run", args.device, args.threads)
    if samples_file is None:
        return FAILED
    samples = np.load(samples_file, allow_pickle=False)
    print(f"  {len(samples)} samples of shape {samples.shape[1:]} from generate --seed {SEED}")
    if name in MODE_DATASETS:
        return measure_modes(name, proj.dataset.get("params") or {}, samples) and in_time
    if "digits" not in classifier_cache:
        classifier_cache["digits"] = digit_classifier()
    return measure_digits(samples, classifier_cache["digits"]) and in_time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=EXAMPLES,
                        help="GAN projects (default: the gan_rings and gan_digits examples)")  # fmt: skip
    parser.add_argument("--device", help="passed to deepwire train (cpu, cuda...)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"),
                        help="train a copy of the project with this precision (bf16/fp16: CUDA)")  # fmt: skip
    parser.add_argument(
        "--epochs", type=int, help="train a copy with this many epochs (a quick try)"
    )
    parser.add_argument("--threads", type=int,
                        help="torch CPU threads for training (OMP_NUM_THREADS; default: torch's)")  # fmt: skip
    parser.add_argument(
        "--keep", type=Path, help="keep the runs in this folder (default: a temporary one)"
    )
    args = parser.parse_args()
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        parser.error(f"no such project: {', '.join(missing)}")
    threads = args.threads or "torch's default"
    print(f"deepwire train --device {args.device or '(project)'}, precision "
          f"{args.precision or '(project)'}, CPU threads {threads}; {machine()}")  # fmt: skip
    results = []
    classifiers: dict = {}
    with tempfile.TemporaryDirectory(prefix="gan_quality_") as temporary:
        work = args.keep or Path(temporary)
        for path in args.files:
            results.append(evaluate(path.resolve(), args, work, classifiers))
    measured = [r for r in results if r is not None]
    print(f"\n{sum(r is True for r in measured)} of {len(measured)} projects reach every goal")
    return 1 if FAILED in results else 0


if __name__ == "__main__":
    sys.exit(main())
