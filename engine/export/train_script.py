"""``train.py`` for the python export folder: the project's training, without Deepwire.

The script imports torch, numpy and safetensors, plus the folder's ``model.py``. It runs
as ``python train.py`` and as ``torchrun --nproc_per_node=N train.py``
(DistributedDataParallel, gloo on the CPU and nccl on CUDA, every rank on its share of a
shuffled index, only rank 0 prints and writes).

One source of truth: the code that makes a built-in dataset, splits and normalises it,
and builds the loss, optimizer and schedule is copied into the script from the engine
(``inspect.getsource``), not written twice. File datasets (csv, npz, images, idx) and
the bundled ones (digits, iris, ...: files of Deepwire's) are prepared at export and
saved beside the script as ``data.npz``.

Nothing derived from user text is executed: settings and data params enter the script
through ``engine.naming.literal`` (a Python literal no text can break out of), and names
only as validated node ids inside ``model.py``.

The script writes what it trains to ``trained.safetensors`` (``--out``) and refuses to
write over ``model.safetensors`` or ``initial.safetensors``, the weights the export put
beside it.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass
from pathlib import Path

from engine.data import builtin, split
from engine.data.base import Raw
from engine.data.registry import FILE_DATASETS, check_section, load_dataset
from engine.errors import DeepwireError
from engine.export.prepare import ExportError
from engine.naming import literal
from engine.training import setup
from engine.training.config import TrainingConfig
from engine.training.core import build

DATA_FILE = "data.npz"
INITIAL_WEIGHTS = "initial.safetensors"
EXPORTED_WEIGHTS = "model.safetensors"
TRAINED_WEIGHTS = "trained.safetensors"
_SPLIT_FUNCTIONS = (split.split_indices, split._stat_axes, split.fit_normalizer, split.normalize)
_SETUP_FUNCTIONS = (
    build.build_loss,
    build.build_optimizer,
    build.build_scheduler,
    build.trainable_parameters,
)


@dataclass
class TrainScript:
    """What ``build_train_script`` made.

    Attributes:
        source: the text of ``train.py``.
        data: arrays to save as ``data.npz`` beside it (file datasets), or None.
        notes: sentences for the README (settings the script does not carry over).
    """

    source: str
    data: dict | None
    notes: list[str]


def build_train_script(project, network, base_dir=None, class_name: str = "Model") -> TrainScript:
    """The ``train.py`` for ``network`` with the project's dataset and training sections.

    Raises:
        ExportError: the project has no dataset, or its sections do not fit the network.
    """
    if project is None or project.dataset is None:
        raise ExportError(
            'train.py needs the project\'s "dataset" section; add a dataset to the project'
        )
    try:
        name, params = check_section(project.dataset)
        config = TrainingConfig.from_dict(project.training)
        dataset = load_dataset(project.dataset, base_dir)
        loss = setup.resolve_loss(config, dataset)
        input_shape, _ = setup.check_fit(network, dataset, loss["type"])
    except DeepwireError as error:
        raise ExportError(f"cannot write train.py: {error}") from None
    notes = _notes(config, params)
    data = None
    if name in FILE_DATASETS or name in builtin.BUNDLED:  # data files: saved beside it
        data = {
            "x_train": dataset.x_train,
            "y_train": dataset.y_train,
            "x_val": dataset.x_val,
            "y_val": dataset.y_val,
        }
        loader_source = ""
    else:
        loader_source = _loader_source(builtin.BUILTINS[name][0])
    constants = {
        "DATASET": name,
        "DATA_PARAMS": {k: v for k, v in params.items() if k != "augment"},
        "DATA_FILE": DATA_FILE if data is not None else None,
        "TASK": dataset.task,
        "KIND": dataset.kind,
        "NUM_CLASSES": dataset.num_classes,
        "TARGET_STD": dataset.target_std,
        "INPUT_SHAPE": tuple(input_shape),
        "LOSS": loss,
        "TRAINING": _training(config),
    }
    source = _TEMPLATE.format(
        class_name=class_name,
        constants=_constants(constants),
        loader=loader_source,
        loader_name=f"LOADER = {name}" if data is None else "LOADER = None",
        split="\n\n".join(_source(f) for f in _SPLIT_FUNCTIONS),
        setup=f"CLASS_LOSSES = {literal(build.CLASS_LOSSES)}\n\n\n"
        + "\n\n".join(_source(f) for f in _SETUP_FUNCTIONS),
        raw=inspect.getsource(Raw),
        initial=INITIAL_WEIGHTS,
        exported=EXPORTED_WEIGHTS,
        trained=TRAINED_WEIGHTS,
    )
    compile(source, "train.py", "exec")  # a bug here must never reach a user's folder
    return TrainScript(source, data, notes)


def _constants(constants: dict) -> str:
    """``NAME = literal`` lines; a value with no literal (a NaN statistic) is an ExportError."""
    try:
        return "\n".join(f"{key} = {literal(value)}" for key, value in constants.items())
    except ValueError as error:
        raise ExportError(f"cannot write train.py: {error}") from None


def _training(config: TrainingConfig) -> dict:
    keys = ("epochs", "batch_size", "optimizer", "l1", "grad_clip", "scheduler",
            "early_stopping", "seed", "device")  # fmt: skip
    return {key: getattr(config, key) for key in keys}


def _notes(config: TrainingConfig, params: dict) -> list[str]:
    notes = []
    if params.get("augment"):
        notes.append("train.py does not augment images (the dataset's augment setting)")
    if config.precision != "fp32":
        notes.append(f"train.py trains in fp32 (the project asks for {config.precision})")
    if config.early_stopping and config.early_stopping["monitor"] in ("val_mae", "val_r2"):
        notes.append("train.py watches val_loss where the project watches val_mae or val_r2")
    return notes


def _source(function) -> str:
    return inspect.getsource(function).rstrip() + "\n"


def _loader_source(loader) -> str:
    """The loader's source after every helper of ``engine.data.builtin`` it calls."""
    needed, todo = {}, [loader]
    while todo:
        function = todo.pop()
        if function.__name__ in needed:
            continue
        needed[function.__name__] = function
        for name in _global_names(function.__code__):
            value = getattr(builtin, name, None)
            if isinstance(value, types.FunctionType) and value.__module__ == builtin.__name__:
                todo.append(value)
    ordered = sorted(needed.values(), key=lambda f: f.__code__.co_firstlineno)
    return "\n\n".join(_source(f) for f in ordered)


def _global_names(code) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def initial_weights_path(folder: Path) -> Path:
    """Where the weights given at export are kept for ``train.py`` to start from."""
    return folder / INITIAL_WEIGHTS


_TEMPLATE = '''"""Train {class_name} (model.py) with the settings of the Deepwire project it came from.

    python train.py [--epochs N] [--batch-size N] [--device cpu|cuda] [--out {trained}]
    torchrun --nproc_per_node=N train.py      # DistributedDataParallel on N processes

Needs torch, numpy and safetensors. It starts
from {initial} when that file is here (the weights given at export), otherwise from
seeded initial weights; it writes the best weights (by validation) to {trained}, never
over {exported} or {initial}, the weights the export put here.
Frozen layers (requires_grad False in model.py) are left as they are.
Generated by Deepwire; the data and training code below is copied from Deepwire's engine.
"""

import argparse
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from model import {class_name}  # noqa: E402

{constants}


class DataError(ValueError):
    """The data cannot be loaded."""


class TrainingError(RuntimeError):
    """The settings do not allow training."""


# ---- the dataset (copied from Deepwire's engine.data) ---------------------------------
{raw}

{loader}

{loader_name}


{split}


def load_data():
    """Training and validation arrays, split and normalised as Deepwire does."""
    if DATA_FILE is not None:
        arrays = np.load(os.path.join(HERE, DATA_FILE))
        return arrays["x_train"], arrays["y_train"], arrays["x_val"], arrays["y_val"]
    params = dict(DATA_PARAMS)
    raw = LOADER(params, params["seed"])
    x, y = raw.x, raw.y
    if params["limit"]:
        x, y = x[: params["limit"]], y[: params["limit"]]
    labels = y if TASK == "classification" else None
    train, val = split_indices(len(x), params["validation_split"], params["seed"], labels)
    x_train, x_val, y_train, y_val = x[train], x[val], y[train], y[val]
    if params["normalize"] and raw.kind != "tokens":
        mean, std = fit_normalizer(x_train, raw.kind)
        x_train, x_val = normalize(x_train, mean, std), normalize(x_val, mean, std)
        if TASK == "regression":
            target_mean, target_std = float(y_train.mean()), float(y_train.std() or 1.0)
            y_train = ((y_train - target_mean) / target_std).astype(np.float32)
            y_val = ((y_val - target_mean) / target_std).astype(np.float32)
    if TASK == "reconstruction":
        y_train, y_val = x_train, x_val
    return x_train, y_train, x_val, y_val


# ---- loss, optimizer, schedule (copied from Deepwire's engine.training.setup) ----------
{setup}


# ---- the training loop ------------------------------------------------------------------
def start_distributed(device_setting):
    """(rank, world size, device); starts the process group under torchrun."""
    use_cuda = torch.cuda.is_available() and device_setting != "cpu"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        if device_setting == "auto":
            return 0, 1, torch.device("cuda" if use_cuda else "cpu")
        return 0, 1, torch.device(device_setting)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    return dist.get_rank(), dist.get_world_size(), device


def to_device(array, device, shape=None):
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if shape is not None:
        tensor = tensor.reshape((len(array), *shape))
    return tensor.to(device)


def batch_metrics(loss, output, target):
    """Sums for one batch: loss times count, correct answers (or absolute error), count."""
    count = len(target)
    with torch.no_grad():
        if TASK == "classification":
            if output.dim() == 2 and output.shape[1] == 1:
                predicted = (output[:, 0] > 0).long()
            else:
                predicted = output.argmax(dim=1)
            second = (predicted == target).sum().float()
        else:
            second = (output.float() - target.float().reshape(output.shape)).abs().mean() * count
    return torch.stack([loss.detach().float() * count, second, torch.tensor(float(count),
                        device=output.device)])


def summarize(sums, prefix):
    loss_sum, second, count = sums.tolist()
    count = max(count, 1.0)
    row = {{prefix + "loss": loss_sum / count}}
    if TASK == "classification":
        row[prefix + "accuracy"] = second / count
    else:
        row[prefix + "mae"] = second / count * TARGET_STD
    return row


def evaluate(model, x, y, loss_fn, target_for, size):
    """Metrics on the validation part (empty when there is none)."""
    if not len(x):
        return {{}}
    model.eval()
    sums = torch.zeros(3, device=x.device)
    step = max(size, 256)
    with torch.no_grad():
        for start in range(0, len(x), step):
            xb, yb = x[start : start + step], y[start : start + step]
            output = model(xb)
            sums += batch_metrics(loss_fn(output, target_for(yb, output)), output, yb)
    return summarize(sums, "val_")


def monitor_of(has_val):
    stopping = TRAINING["early_stopping"]
    name = stopping["monitor"] if stopping else ("val_loss" if has_val else "train_loss")
    if name in ("val_mae", "val_r2"):
        name = "val_loss"
    return name, name.endswith("accuracy")


def parse_args():
    parser = argparse.ArgumentParser(description="Train {class_name} from model.py.")
    parser.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    parser.add_argument("--batch-size", type=int, default=TRAINING["batch_size"])
    parser.add_argument("--device", default=TRAINING["device"])
    parser.add_argument("--init-weights", default=None,
                        help="start from these weights (default: {initial} if present)")
    parser.add_argument("--out", default=os.path.join(HERE, "{trained}"),
                        help="where to write the trained weights (default: {trained})")
    args = parser.parse_args()
    for kept in ("{exported}", "{initial}"):
        if same_file(args.out, os.path.join(HERE, kept)):
            parser.error(f"--out {{args.out}} is {{kept}}, where the export keeps its weights; "
                         "write the trained weights to another file")
    return args


def same_file(one, other):
    """Whether two paths name one file (links followed), existing or not."""
    if os.path.realpath(one) == os.path.realpath(other):
        return True
    return os.path.exists(one) and os.path.exists(other) and os.path.samefile(one, other)


def main():
    args = parse_args()
    seed = TRAINING["seed"]
    rank, world, device = start_distributed(args.device)
    try:
        train(args, seed, rank, world, device)
        if world > 1:
            dist.barrier()
    finally:
        if world > 1:
            dist.destroy_process_group()
    if world > 1:
        # gloo can abort in C++ destructors at interpreter exit; the weights are written.
        sys.stdout.flush()
        os._exit(0)


def train(args, seed, rank, world, device):
    torch.manual_seed(seed)
    model = {class_name}()
    initial = args.init_weights or os.path.join(HERE, "{initial}")
    if args.init_weights or os.path.exists(initial):
        model.load_state_dict(load_file(initial), strict=True)
    model.to(device)
    x_train, y_train, x_val, y_val = load_data()
    x, x_v = to_device(x_train, device, INPUT_SHAPE), to_device(x_val, device, INPUT_SHAPE)
    y, y_v = to_device(y_train, device), to_device(y_val, device)
    count, size = len(x), args.batch_size
    per_rank = count // world
    if per_rank == 0:
        raise TrainingError("there are fewer training samples than processes")
    batches = math.ceil(per_rank / size)
    params = trainable_parameters(model)
    loss_fn, target_for = build_loss(LOSS, NUM_CLASSES)
    optimizer = build_optimizer(TRAINING["optimizer"], params)
    scheduler, schedule_on = build_scheduler(TRAINING["scheduler"], optimizer, args.epochs,
                                             batches)
    forward = model
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        forward = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    monitor, higher = monitor_of(len(x_v) > 0)
    best, best_state, waited = None, None, 0
    l1, clip = TRAINING["l1"], TRAINING["grad_clip"]
    for epoch in range(1, args.epochs + 1):
        torch.manual_seed(seed * 1_000 + epoch)
        model.train()
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(count, generator=generator)
        if world > 1:
            order = order[rank : (count // world) * world : world]
        order = order.to(device)
        sums = torch.zeros(3, device=device)
        for batch in range(batches):
            idx = order[batch * size : (batch + 1) * size]
            xb, yb = x[idx], y[idx]
            output = forward(xb)
            loss = loss_fn(output, target_for(yb, output))
            sums += batch_metrics(loss, output, yb)
            if l1:
                loss = loss + l1 * sum(p.abs().sum() for p in params)
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(params, clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if schedule_on == "batch":
                scheduler.step()
        if world > 1:
            dist.all_reduce(sums)
        row = {{**summarize(sums, "train_"), **evaluate(model, x_v, y_v, loss_fn, target_for, size)}}
        if not math.isfinite(row["train_loss"]):
            raise TrainingError(f"the loss became {{row['train_loss']}} at epoch {{epoch}}: lower "
                                "the learning rate")
        if schedule_on == "epoch":
            scheduler.step()
        elif schedule_on == "metric":
            scheduler.step(row.get(TRAINING["scheduler"]["monitor"], row["train_loss"]))
        value = row.get(monitor, row["train_loss"])
        improved = best is None or (value > best if higher else value < best)
        if improved:
            best, waited = value, 0
            best_state = {{k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
        else:
            waited += 1
        if rank == 0:
            shown = "  ".join(f"{{k}} {{v:.4f}}" for k, v in row.items())
            print(f"epoch {{epoch}}/{{args.epochs}}  {{shown}}{{'  *' if improved else ''}}",
                  flush=True)
        stopping = TRAINING["early_stopping"]
        if stopping and waited >= stopping["patience"]:
            break
    if rank == 0:
        state = best_state or model.state_dict()
        save_file({{k: v.detach().cpu().contiguous() for k, v in state.items()}}, args.out)
        print(f"wrote {{args.out}} (best {{monitor}} {{best:.4f}})", flush=True)


if __name__ == "__main__":
    main()
'''
