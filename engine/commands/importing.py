"""``deepwire import model.py:Net -o net.dwire``: a PyTorch model in, as a project.

``deepwire import model.onnx`` reads an ONNX file instead (``engine.onnx_import``); it
runs no code of the file's, but onnx and onnxruntime parse and run it, so it goes
through the same child process, and ``-o`` defaults to ``model.dwire`` beside it.

Importing runs the model's Python code (the file's top level, the class's constructor
and ``forward``), so it runs in a child process: whatever that code does (``sys.exit``,
``os._exit``, a crash inside an extension, changes to torch's global settings) ends the
child, not this command, which then says what happened in one sentence. The child hands
back the network as project text and the weights as safetensors bytes; this process
checks the targets before anything runs and writes the files. The child's stages
(running the model's code, tracing it, checking its outputs) come back through a file
of events and are shown while they run (``import_to_files``; the app calls it too).

An existing ``-o`` project keeps its dataset, training settings, notes and other
networks: the import replaces only the network it names (``--name``), and the file it
replaces is kept as ``NAME.dwire.bak``. A file that is not a project is refused unless
``--force``; a read-only file is never replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from engine import project as project_file
from engine.cli import EXIT_BAD_INPUT, EXIT_OK
from engine.edits.paste import adopt_network
from engine.errors import DeepwireError
from engine.file_access import refuse_read_only
from engine.progress import Cancelled, Progress, stage
from engine.progress_console import ConsoleProgress

DESCRIPTION = """\
Turn a PyTorch model into a network of Deepwire layers and save it as a project.

Importing RUNS the model's Python code: the file's top level, the class's constructor
and its forward, as `python model.py` would. Import only code you trust. It runs in a
separate process, so code that ends the program (sys.exit, os._exit) or crashes is
reported and nothing is written.

A .onnx file (from PyTorch, Keras through tf2onnx, any framework) is read, not run:
its layers and weights become the network, checked against onnxruntime. -o defaults
to the .dwire beside it.

An existing -o project keeps its dataset, training settings and other networks: only
the network named by --name is replaced, and the old file is kept as NAME.dwire.bak."""

RESULT, PROJECT, WEIGHTS = "result.json", "imported.dwire", "imported.safetensors"
PROGRESS = "progress.jsonl"
POLL_S = 0.1
MAX_READ = 1 << 20  # the most read from the progress file at once


def register(commands) -> None:
    """Add ``import`` to the ``deepwire`` parser."""
    imp = commands.add_parser(
        "import",
        help="turn a PyTorch model (runs its Python code) or an ONNX file into a .dwire project",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument(
        "model",
        help="file.py:ClassName or package.module:ClassName (its code is run; a function that "
        "returns the model, such as torchvision.models:resnet18, works too), or model.onnx",
    )
    imp.add_argument(
        "-o", "--output", help="the .dwire project to write (for model.onnx: model.dwire)"
    )
    imp.add_argument(
        "--input-shape",
        action="append",
        metavar="[NAME=]SIZES",
        help="shape of one sample of an input, without the batch, e.g. 1,28,28 or x=1,28,28; "
        "repeat for several inputs",
    )
    imp.add_argument(
        "--input-dtype",
        action="append",
        metavar="[NAME=]DTYPE",
        help="float32 or int64 (token ids, for language models), for every input or for one "
        "named input; by default int64 where an input feeds an embedding",
    )
    imp.add_argument("--load-weights", help="the model's own state_dict to import with it")
    imp.add_argument("--weights-out", help="also write the weights as .safetensors, for export")
    imp.add_argument("--name", default="model", help="the network's name (default: model)")
    imp.add_argument(
        "--force",
        action="store_true",
        help="replace an -o file that is not a Deepwire project (kept as NAME.bak)",
    )
    imp.add_argument("--worker", help=argparse.SUPPRESS)  # the child process's result folder
    imp.set_defaults(func=run_import)


@dataclass
class Imported:
    """What ``import_to_files`` wrote.

    Attributes:
        output: the project written.
        class_name: the imported class's (or ONNX file's) name.
        nodes: the number of nodes of the imported network.
        weights_out: the weights file written, or None.
        lines: what happened, in the sentences the command line prints.
    """

    output: Path
    class_name: str
    nodes: int
    weights_out: Path | None
    lines: list[str]


def run_import(args) -> int:
    """Import in a child process and write the project; exit 2 if it cannot be imported."""
    if args.worker:
        return run_worker(args)
    progress = ConsoleProgress()
    try:
        imported = import_to_files(args, progress)
    except DeepwireError as error:
        imported, failure = None, error
    finally:
        progress.close()  # its line is gone before anything else is printed
    if imported is None:
        print(f"deepwire: {failure}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in imported.lines:
        print(line)
    return EXIT_OK


def import_to_files(args, progress=None, cancel: threading.Event | None = None) -> Imported:
    """Import the model ``args`` names (the ``import`` command's arguments) and write it.

    Everything is checked before the model's code runs (in a child process); its stages
    go to ``progress`` (``engine.progress.Progress``) from the calling thread. Setting
    ``cancel`` ends the child at once and raises ``Cancelled``; nothing is written then.

    Raises:
        DeepwireError: the sentence saying why the model was not imported (nothing
            written), ``Cancelled`` included.
    """
    output = output_path(args)
    input_shapes(args.input_shape)  # wrong sizes are refused before any code runs
    input_dtypes(args.input_dtype, args.model)
    existing = existing_project(output, args.force)
    if args.weights_out:
        weights_format(args.weights_out)
        refuse_read_only(args.weights_out)
    text, weights, class_name = import_in_child(args, progress, cancel)
    stage(progress, f"writing {output.name}")
    imported = project_file.loads(text, "the imported model")
    network = imported.networks[args.name]
    proj = imported
    if existing is not None:
        proj = existing
        network = adopt_network(existing, args.name, network)
    project_file.save(proj, output, backup=True)
    lines = [f"imported {class_name}: {len(network)} nodes -> {output}"]
    if existing is not None:
        lines.append(
            f"kept the project's other sections; the previous file is "
            f"{project_file.backup_path(output)}"
        )
    weights_out = Path(args.weights_out) if args.weights_out else None
    if weights_out is not None:
        project_file.write_atomic(weights_out, weights)
        lines.append(f"wrote {weights_out}")
    return Imported(output, class_name, len(network), weights_out, lines)


def output_path(args) -> Path:
    """The project to write: ``-o``, or for an ONNX file the .dwire beside it.

    Raises:
        ImportModelError: no ``-o`` for a PyTorch model, or ``--load-weights`` with ONNX.
    """
    from engine.importer import ImportModelError
    from engine.onnx_import import is_onnx

    if is_onnx(args.model) and args.load_weights:
        raise ImportModelError(
            f"{Path(args.model).name} holds its own weights; --load-weights is for PyTorch models"
        )
    if not args.output and not is_onnx(args.model):
        raise ImportModelError("name the project to write with -o, e.g. -o net.dwire")
    return Path(args.output) if args.output else Path(args.model).with_suffix(".dwire")


def existing_project(output: Path, force: bool) -> project_file.Project | None:
    """The project at ``output`` that the import goes into, or None for a new file.

    Raises:
        ProjectError: ``output`` is read-only, or it is not a project and not ``force``.
    """
    refuse_read_only(output)
    if not output.exists():
        return None
    try:
        return project_file.load(output)
    except project_file.ProjectError as error:
        if force:
            return None
        raise project_file.ProjectError(
            f"{output} exists and is not a Deepwire project ({error}), so it was not "
            "replaced; choose another -o, or add --force to replace it (the old file is "
            f"then kept as {project_file.backup_path(output).name})"
        ) from None


def import_in_child(args, progress=None, cancel=None) -> tuple[str, bytes, str]:
    """Run ``deepwire import --worker`` and return (project text, weights, class name).

    The child's stages come back through a file of its folder (``PROGRESS``), read
    every ``POLL_S`` seconds and handed to ``progress``.

    Raises:
        ImportModelError: the model cannot be imported, or its code ended the child.
        Cancelled: ``cancel`` was set (or ``progress`` raised it); the child was ended.
    """
    from engine.importer import ImportModelError

    with tempfile.TemporaryDirectory(prefix="deepwire-import-") as folder:
        stage(progress, "starting the process that imports the model")
        child = subprocess.Popen(
            [*self_command(), *worker_arguments(args, folder)],
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(search_path())},
            start_new_session=True,  # Ctrl-C goes to this process, which ends the child
        )
        status = wait_for_child(child, ChildProgress(Path(folder) / PROGRESS, progress), cancel)
        result = Path(folder) / RESULT
        if not result.is_file():
            raise ImportModelError(ended_sentence(args.model, status))
        outcome = json.loads(result.read_text(encoding="utf-8"))
        if "error" in outcome:
            raise ImportModelError(outcome["error"])
        text = (Path(folder) / PROJECT).read_text(encoding="utf-8")
        return text, (Path(folder) / WEIGHTS).read_bytes(), outcome["class_name"]


def wait_for_child(child: subprocess.Popen, relay: ChildProgress, cancel) -> int:
    """The child's exit status once it ends, relaying its progress meanwhile.

    Raises:
        Cancelled: ``cancel`` was set; the child was ended.
    """
    try:
        while True:
            try:
                return child.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                relay.read()
            if cancel is not None and cancel.is_set():
                raise Cancelled("the import was cancelled; nothing was written")
    except BaseException:  # cancelled, Ctrl-C, or a listener's error: the child ends too
        child.kill()
        child.wait()
        raise


class ChildProgress:
    """Reads the progress events a child appends to ``path`` and hands them on."""

    def __init__(self, path: Path, progress):
        self.path, self.progress, self.offset = path, progress, 0

    def read(self) -> None:
        """Hand each event written since the last read to ``progress``; a line that
        is not one of ``Progress.as_dict`` (the model's code shares the child) is
        skipped."""
        if self.progress is None:
            return
        try:
            with open(self.path, "rb") as events:
                events.seek(self.offset)
                chunk = events.read(MAX_READ)
        except OSError:
            return  # not written yet
        lines = chunk.split(b"\n")
        self.offset += len(chunk) - len(lines[-1])  # a line not yet ended is read next time
        for line in lines[:-1]:
            try:
                event = Progress.from_dict(json.loads(line))
            except ValueError:
                event = None
            if event is not None:
                self.progress(event)

    @staticmethod
    def writer(path: Path):
        """In the child: a progress function that appends each event to ``path``."""

        def tell(event: Progress) -> None:
            with open(path, "a", encoding="utf-8") as events:
                events.write(json.dumps(event.as_dict()) + "\n")

        return tell


def self_command() -> list[str]:
    """How to start this command line again (a frozen app is its own interpreter)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "engine"]


def search_path() -> list[str]:
    """This process's module search path, so that the child finds the same modules."""
    return [entry or os.getcwd() for entry in sys.path]


def worker_arguments(args, folder: str) -> list[str]:
    """The child's command line: the same import, its result going to ``folder``."""
    argv = ["import", args.model, "-o", str(output_path(args))]
    argv += ["--name", args.name, "--worker", folder]
    for shape in args.input_shape or []:
        argv.append(f"--input-shape={shape}")
    for dtype in args.input_dtype or []:
        argv.append(f"--input-dtype={dtype}")
    if args.load_weights:
        argv += ["--load-weights", args.load_weights]
    if args.weights_out:
        argv += ["--weights-out", args.weights_out]  # for its format; this process writes it
    return argv


def weights_format(path: str) -> str:
    """``safetensors`` or ``pt`` from the weights file's suffix; WeightsError otherwise."""
    from engine.weights import WEIGHT_SUFFIXES, WeightsError

    suffix = Path(path).suffix.lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise WeightsError(f"{Path(path).name}: weights files end in .safetensors or .pt")
    return "safetensors" if suffix == ".safetensors" else "pt"


def ended_sentence(model: str, status: int) -> str:
    """Why the child ended without a result: the model's code, or onnx, exited or crashed."""
    from engine.importer import exit_sentence
    from engine.onnx_import import is_onnx

    if is_onnx(model):
        how = f"exit status {status}" if status >= 0 else _signal_name(status)
        return (
            f"{Path(model).name}: onnx or onnxruntime ended the process that read it ({how}), "
            "so nothing was imported; the file is damaged or uses what they cannot run"
        )
    label = model.rpartition(":")[0]
    if status >= 0:
        return exit_sentence(label, f"ended the program with exit status {status}")
    name = _signal_name(status)
    return (
        f"{label} crashed the process that ran it to import the model ({name}), so nothing "
        "was imported; the model's code, or an extension it loads, failed"
    )


def _signal_name(status: int) -> str:
    try:
        return signal.Signals(-status).name
    except ValueError:
        return f"signal {-status}"


def run_worker(args) -> int:
    """In the child: import the model and leave the result in ``args.worker``."""
    from engine.weights import first_line, weights_bytes

    folder = Path(args.worker)
    try:
        result = import_source(args, ChildProgress.writer(folder / PROGRESS))
        network = result.network
        proj = project_file.Project(networks={args.name: network}, blocks=network.library)
        project_file.write_atomic(folder / PROJECT, project_file.dumps(proj).encode("utf-8"))
        fmt = weights_format(args.weights_out) if args.weights_out else "safetensors"
        project_file.write_atomic(folder / WEIGHTS, weights_bytes(result.weights, fmt))
        outcome = {"class_name": result.class_name}
    except DeepwireError as error:
        outcome = {"error": str(error)}
    except Exception as error:  # a bug, or user code failing where it was not expected
        outcome = {"error": f"the import failed ({type(error).__name__}: {first_line(error)})"}
    project_file.write_atomic(folder / RESULT, json.dumps(outcome).encode("utf-8"))
    return EXIT_OK


def import_source(args, progress=None):
    """``import_onnx`` for a .onnx file, else ``import_model`` (in the child)."""
    from engine.importer import import_model
    from engine.onnx_import import import_onnx, is_onnx

    shapes = input_shapes(args.input_shape)
    if is_onnx(args.model):
        return import_onnx(args.model, input_shapes=shapes, name=args.name, progress=progress)
    return import_model(
        args.model,
        input_shapes=shapes,
        name=args.name,
        model_weights=args.load_weights,
        input_dtypes=input_dtypes(args.input_dtype, args.model),
        progress=progress,
    )


def input_dtypes(values: list[str] | None, model: str):
    """``["int64"]`` -> ``"int64"`` for every input; ``["ids=int64"]`` -> a dict by name."""
    from engine.importer import ImportModelError, check_input_dtype
    from engine.onnx_import import is_onnx

    if not values:
        return None
    if is_onnx(model):
        raise ImportModelError(
            f"{Path(model).name} gives its inputs' types itself; --input-dtype is for "
            "PyTorch models"
        )
    named, every = {}, []
    for value in values:
        name, _, dtype = value.rpartition("=")
        dtype = check_input_dtype(dtype.strip(), f"--input-dtype {value!r}")
        if name:
            named[name.strip()] = dtype
        else:
            every.append(dtype)
    if (named and every) or len(every) > 1:
        raise ImportModelError(
            "--input-dtype: give one dtype for every input (int64) or name each input (ids=int64)"
        )
    return named or every[0]


def input_shapes(values: list[str] | None):
    """``["1,28,28"]`` -> ``[(1, 28, 28)]``; ``["x=4", "y=2,3"]`` -> a dict by name."""
    from engine.importer import ImportModelError

    if not values:
        return None
    named, ordered = {}, []
    for value in values:
        name, _, sizes = value.rpartition("=")
        try:
            shape = tuple(int(s) for s in sizes.replace("x", ",").split(",") if s.strip())
        except ValueError:
            shape = ()
        if not shape or any(s < 1 for s in shape):
            raise ImportModelError(
                f"--input-shape {value!r}: give positive sizes separated by commas, e.g. 1,28,28"
            )
        if name:
            named[name.strip()] = shape
        else:
            ordered.append(shape)
    if named and ordered:
        raise ImportModelError("--input-shape: name every input (x=1,28,28) or none of them")
    return named or ordered
