"""Does a network fit its data? Checked against a description of the data, not the data.

``describe(section, base_dir)`` turns a project's ``dataset`` section into a
``DataInfo``: the shape and dtype of one sample, the task, the number of classes and
the shape of one target. Built-in datasets are described from their params alone; a
file dataset is described once it has been loaded (``remember``), cached under its
file's size and modification time, so that the check can run on every edit.

``check_fit(analysis, info, loss)`` compares the network with the description and
returns diagnostics that name the node and the setting to change ("fc2: Linear gives
32 outputs but digits has 10 classes; set out_features to 10"): errors where training
would refuse to start, warnings where it would run but learn the wrong thing.
``fit_edits`` gives the parameter changes that make the network fit (the app's "Apply
to network"), and ``analyze_project`` is the analysis with the data check added.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

from engine.analysis import ERROR, WARNING, Analysis, Diagnostic, analyze
from engine.data.base import Suggestion, fmt_shape
from engine.data.registry import FILE_DATASETS, check_section, resolve_paths
from engine.errors import DeepwireError
from engine.network import Network, Node
from engine.training.core.build import CLASS_LOSSES

VALUE_LOSSES = ("MSELoss", "L1Loss", "HuberLoss")
# The parameters that set how many numbers a layer gives (its last or channel axis).
SIZE_PARAMS = ("out_features", "out_channels", "hidden_size", "embedding_dim")
CACHE_SIZE = 16


@dataclass(frozen=True)
class DataInfo:
    """What the network must fit, known without holding the data.

    Attributes:
        name: the dataset's name, as the user chose it (``digits``, ``csv``...).
        sample_shape: the shape of one sample, without the batch.
        dtype: ``float32`` or ``int64``.
        task: ``classification``, ``regression`` or ``reconstruction``.
        num_classes: the number of classes (classification), else 0.
        target_shape: the shape of one target (``()`` for a class index).
    """

    name: str
    sample_shape: tuple[int, ...]
    dtype: str = "float32"
    task: str = "classification"
    num_classes: int = 0
    target_shape: tuple[int, ...] = ()

    @classmethod
    def of(cls, dataset) -> DataInfo:
        """The description of a loaded ``engine.data.Dataset``."""
        return cls(dataset.name, dataset.sample_shape, dataset.dtype, dataset.task,
                   dataset.num_classes, dataset.target_shape)  # fmt: skip

    @property
    def out_size(self) -> int:
        """How many numbers the network's output must hold."""
        if self.task == "classification":
            return self.num_classes
        if self.task == "reconstruction":
            return math.prod(self.sample_shape)
        return max(1, math.prod(self.target_shape))

    @property
    def loss(self) -> str:
        """The loss that suits the task (what ``"auto"`` becomes)."""
        return "CrossEntropyLoss" if self.task == "classification" else "MSELoss"

    def suggest(self) -> Suggestion:
        """The Input shape, last layer size and loss that fit this data."""
        size, loss = self.out_size, self.loss
        if self.task == "classification":
            what = f"{size} classes: end with Linear(out_features={size}) and {loss}"
        elif self.task == "reconstruction":
            what = f"rebuild the input: end with {size} outputs and {loss}"
        else:
            what = f"predict {size} value(s): end with Linear(out_features={size}) and {loss}"
        text = f"{self.name}: samples {fmt_shape(self.sample_shape)} {self.dtype}; {what}"
        return Suggestion(self.sample_shape, self.dtype, size, loss, text)

    def input_problem(self, shape, dtype: str, fix=None) -> str | None:
        """Why an Input of ``shape`` and ``dtype`` cannot take the samples, or None.

        An Input with as many elements as a sample takes it reshaped; ``fix`` is the
        shape to propose (the samples' own by default).
        """
        shape = tuple(int(s) for s in shape)
        if math.prod(shape) != math.prod(self.sample_shape):
            return (
                f"the Input takes {fmt_shape(shape)} but {self.name} samples are "
                f"{fmt_shape(self.sample_shape)}; set the Input's shape to "
                f"{fmt_shape(fix or self.sample_shape)}"
            )
        if dtype != self.dtype:
            return (
                f"the Input's dtype is {dtype} but {self.name} samples are {self.dtype}; "
                f"set the Input's dtype to {self.dtype}"
            )
        return None


# ------------------------------------------------------------------ descriptions
def _builtin(name: str, p: dict) -> DataInfo | None:
    """Built-in datasets described from their params (tests/engine/test_data_fit.py
    holds every one against its loaded data)."""
    points = ("moons", "circles", "xor")
    if name == "digits":
        classes = p["classes"]
        if classes is not None and not isinstance(classes, list):
            return None  # the loader says what is wrong with it
        return DataInfo(name, (1, 8, 8), num_classes=len(set(classes)) if classes else 10)
    if name in points or name == "spirals":
        return DataInfo(name, (2,), num_classes=2 if name in points else p["classes"])
    modes = {"rings": 8, "grid": 25, "spiral": p.get("turns")}  # GAN sets: the class is the mode
    if name in modes:
        return DataInfo(name, (2,), num_classes=modes[name])
    tabular = {"iris": (4, 3), "wine": (13, 3), "breast_cancer": (30, 2)}
    if name in tabular:
        features, classes = tabular[name]
        return DataInfo(name, (features,), num_classes=classes)
    if name == "diabetes":
        return DataInfo(name, (10,), task="regression", target_shape=(1,))
    if name == "sine":
        return DataInfo(name, (p["steps"], 1), task="regression", target_shape=(1,))
    if name == "sequences":
        return DataInfo(name, (p["length"],), "int64", num_classes=p["classes"])
    return None


def _with_task(info: DataInfo, task: str) -> DataInfo | None:
    if task == "reconstruction":
        return replace(info, task=task, num_classes=0, target_shape=info.sample_shape)
    return info if task in ("auto", info.task) else None


_CACHE: OrderedDict[tuple, DataInfo] = OrderedDict()


def _file_key(name: str, params: dict, base_dir) -> tuple | None:
    """A key that changes when the params or the files change; None if unreadable."""
    params = resolve_paths(name, params, base_dir)
    stamps = []
    for key in ("path", "targets"):
        if params.get(key):
            try:
                stat = Path(params[key]).stat()
            except (OSError, ValueError):
                return None
            stamps.append((stat.st_mtime_ns, stat.st_size))
    return (name, json.dumps(params, sort_keys=True, default=str), tuple(stamps))


def describe(section, base_dir=None) -> DataInfo | None:
    """The description of a ``dataset`` section, or None when it is not known yet (a
    file dataset not loaded since it last changed) or the section is wrong."""
    try:
        name, params = check_section(section)
        if name in FILE_DATASETS:
            key = _file_key(name, params, base_dir)
            return _CACHE.get(key) if key else None
        info = _builtin(name, params)
    except (DeepwireError, TypeError, KeyError):
        return None
    return _with_task(info, params["task"]) if info else None


def remember(section, base_dir, dataset) -> None:
    """Keep the description of a file dataset just loaded from ``section``."""
    try:
        name, params = check_section(section)
    except DeepwireError:
        return
    key = _file_key(name, params, base_dir) if name in FILE_DATASETS else None
    if key is not None:
        _CACHE[key] = DataInfo.of(dataset)
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)


# ------------------------------------------------------------------ the check
def check_fit(analysis: Analysis, info: DataInfo, loss: str = "auto") -> list[Diagnostic]:
    """Diagnostics about how the analysed network fits data described by ``info``.

    Args:
        analysis: ``analyze(network)`` of the network.
        info: the data's description.
        loss: the loss name from the training settings (``auto``: the task's loss).
    """
    loss = info.loss if loss in ("auto", None) else loss
    network = analysis.network
    wrong_input = _input_fit(network, info)
    found = wrong_input + _loss_fit(info, loss)
    outputs = [n.id for n in network.nodes if n.spec.role == "output"]
    # with the wrong input the output's shape says nothing yet: that comes after the fix
    if not wrong_input and len(outputs) == 1 and outputs[0] in analysis.shapes:
        found += _output_fit(analysis, info, loss, outputs[0])
        found += _last_activation_fit(network, loss, outputs[0])
    return found


def _input_fit(network: Network, info: DataInfo) -> list[Diagnostic]:
    inputs = [n for n in network.nodes if n.spec.role == "input"]
    if len(inputs) != 1:
        return []
    node = inputs[0]
    problem = info.input_problem(node.params["shape"], node.params["dtype"])
    if problem:  # propose the shape that "Apply to network" would set
        fix = _input_edit(network.copy(), node, info)["shape"]
        problem = info.input_problem(node.params["shape"], node.params["dtype"], fix)
    return [Diagnostic(ERROR, f"{node.id}: {problem}", node.id)] if problem else []


def _loss_fit(info: DataInfo, loss: str) -> list[Diagnostic]:
    """The loss against the task: an error where training refuses, else a warning."""
    name, task, classes = info.name, info.task, info.num_classes
    use = f"set {label('loss')} to {info.loss} (or auto)"
    if task != "classification":
        if loss in CLASS_LOSSES:
            return [Diagnostic(ERROR, f"{loss} is for classes, but {name} is a {task} task; {use}")]
        if loss == "BCEWithLogitsLoss":
            text = f"{loss} expects targets from 0 to 1, but {name} is a {task} task; {use}"
            return [Diagnostic(WARNING, text)]
    elif loss in VALUE_LOSSES:
        text = (
            f"{loss} compares the outputs with one-hot classes of {name} and learns slowly; {use}"
        )
        return [Diagnostic(WARNING, text)]
    elif loss == "BCEWithLogitsLoss" and classes > 2:
        text = (
            f"{loss} treats each of the {classes} classes of {name} as a separate yes or no; "
            f"{use} when each sample has one class"
        )
        return [Diagnostic(WARNING, text)]
    return []


def _wanted(info: DataInfo, loss: str) -> int:
    """How many numbers the output must hold with this loss."""
    two_classes = info.task == "classification" and info.num_classes == 2
    return 1 if two_classes and loss == "BCEWithLogitsLoss" else info.out_size


def shape_fits(info: DataInfo, loss: str, shape) -> bool:
    """Whether an output of ``shape`` trains on the data with ``loss``."""
    shape = tuple(shape)
    if info.task != "classification":
        return math.prod(shape) == info.out_size
    if loss == "BCEWithLogitsLoss" and info.num_classes == 2 and shape == (1,):
        return True
    return shape == (info.num_classes,)


def _output_fit(analysis: Analysis, info: DataInfo, loss: str, output: str) -> list[Diagnostic]:
    shape = tuple(analysis.shapes[output])
    if shape_fits(info, loss, shape):
        return []
    size, wanted = math.prod(shape), _wanted(info, loss)
    classes = info.task == "classification"
    extra = classes and loss in CLASS_LOSSES and len(shape) == 1 and size > wanted
    severity = WARNING if extra else ERROR  # extra outputs train, for classes that never come
    if classes and len(shape) != 1:
        text = (f"{output}: the network gives {fmt_shape(shape)} but {loss} needs one score "
                f"per class, ({wanted},); make it one vector (Flatten, or a recurrent layer's "
                "last step) before the last layer")  # fmt: skip
        return [Diagnostic(severity, text, output)]
    need = _need(info, wanted)
    change = resize_edit(analysis, output, lambda s: shape_fits(info, loss, s), wanted)
    if change is None:
        text = f"{output}: the network gives {size} outputs but {need}; make the last layer give {wanted}"
        return [Diagnostic(severity, text, output)]
    node, param, value = change
    text = f"{node.id}: {node.type} gives {size} outputs but {need}; set {param} to {value}"
    if extra:
        text += f" (the other {size - wanted} outputs stand for classes that do not exist)"
    return [Diagnostic(severity, text, node.id)]


def _need(info: DataInfo, wanted: int) -> str:
    if info.task == "classification":
        return f"{info.name} has {info.num_classes} classes"
    if info.task == "reconstruction":
        return (
            f"rebuilding the samples of {info.name} {fmt_shape(info.sample_shape)} needs {wanted}"
        )
    return f"{info.name} has {wanted} target value(s) per sample"


def _last_activation_fit(network: Network, loss: str, output: str) -> list[Diagnostic]:
    wire = network.wire_into(output, "in")
    last = network.node(wire.src) if wire else None
    if last is None:
        return []
    if loss == "CrossEntropyLoss" and last.type in ("Softmax", "LogSoftmax"):
        text = (f"{last.id}: CrossEntropyLoss applies softmax itself; remove this {last.type} "
                "(it flattens the gradients and slows learning)")  # fmt: skip
        return [Diagnostic(WARNING, text, last.id)]
    if loss == "NLLLoss" and last.type != "LogSoftmax":
        text = (f"{last.id}: NLLLoss expects log-probabilities; add a LogSoftmax after it, or "
                f"set {label('loss')} to CrossEntropyLoss")  # fmt: skip
        return [Diagnostic(WARNING, text, last.id)]
    return []


def label(key: str) -> str:
    """The label the user sees for a training setting (``engine.training.config``)."""
    from engine.training.config import label as setting_label  # that package imports this one

    return setting_label(key)


# ------------------------------------------------------------------ fixing it
def _size_param(node: Node) -> str | None:
    return next((p for p in SIZE_PARAMS if p in node.params), None)


def last_sized_layer(network: Network, analysis: Analysis, output: str):
    """The layer whose size param sets the output's size: ``(node, param)`` or None.

    Walks back from the Output through single-input layers that keep the number of
    elements and have no size of their own (activations, Dropout, Flatten, norms).
    """
    wire = network.wire_into(output, "in")
    while wire is not None:
        node = network.node(wire.src)
        param = _size_param(node)
        if param is not None:
            return node, param
        ports = node.input_ports()
        wire = network.wire_into(node.id, ports[0]) if len(ports) == 1 else None
        fixed = any(p.kind == "shape" for p in node.spec.params)  # Reshape, Unflatten
        same = wire is not None and _numel(analysis, wire.src) == _numel(analysis, node.id)
        if fixed or not same:
            return None
    return None


def _numel(analysis: Analysis, node_id: str) -> int | None:
    shape = analysis.shapes.get(node_id)
    return math.prod(shape) if shape is not None else None


def resize_edit(analysis: Analysis, output: str, fits, wanted: int):
    """``(node, param, value)``: the one size change after which the Output's shape
    ``fits`` (holding ``wanted`` numbers), tried on a copy of the network; or None."""
    network = analysis.network
    found = last_sized_layer(network, analysis, output)
    if found is None:
        return None
    node, param = found
    current, numel = node.params[param], _numel(analysis, node.id)
    per_unit, rest = divmod(numel, current) if numel else (0, 1)
    if rest or not per_unit or wanted % per_unit:
        return None
    value = wanted // per_unit
    trial = network.copy()
    try:
        trial.set_params(node.id, {param: value})
    except DeepwireError:
        return None
    after = analyze(trial)
    if after.errors or output not in after.shapes or not fits(after.shapes[output]):
        return None
    return node, param, value


def fit_edits(network: Network, info: DataInfo, loss: str = "auto") -> dict[str, dict]:
    """The parameter changes that make ``network`` fit the data, as ``{node id: {param:
    value}}``: the Input's shape and dtype, and the size of the last weighted layer
    (out_features, out_channels...). Empty when nothing simple needs to change."""
    loss = info.loss if loss in ("auto", None) else loss
    edits: dict[str, dict] = {}
    inputs = [n for n in network.nodes if n.spec.role == "input"]
    trial = network.copy()
    if len(inputs) == 1:
        node = inputs[0]
        if info.input_problem(node.params["shape"], node.params["dtype"]):
            edits[node.id] = _input_edit(trial, node, info)
            trial.set_params(node.id, edits[node.id], check=False)
    analysis = analyze(trial)
    outputs = [n.id for n in trial.nodes if n.spec.role == "output"]
    if len(outputs) == 1 and outputs[0] in analysis.shapes:
        output = outputs[0]
        if not shape_fits(info, loss, analysis.shapes[output]):
            fits = lambda s: shape_fits(info, loss, s)  # noqa: E731
            change = resize_edit(analysis, output, fits, _wanted(info, loss))
            if change is not None:
                edits[change[0].id] = {change[1]: change[2]}
    return edits


def _input_edit(trial: Network, node: Node, info: DataInfo) -> dict:
    """The Input's new shape and dtype: the samples' shape, or their flat size when the
    Input was flat and the layers after it need it so (an MLP on images)."""
    shapes = [list(info.sample_shape), [math.prod(info.sample_shape)]]
    if len(node.params["shape"]) == 1:
        shapes.reverse()
    for shape in shapes:
        trial.set_params(node.id, {"shape": shape, "dtype": info.dtype}, check=False)
        if analyze(trial).ok:
            break
    else:
        shape = list(info.sample_shape)
    return {"shape": shape, "dtype": info.dtype}


# ------------------------------------------------------------------ the project
def loss_name(training) -> str:
    """The loss a ``training`` section names (``auto`` when absent or wrong)."""
    from engine.training.config import TrainingConfig

    try:
        return TrainingConfig.from_dict(training).loss_name
    except DeepwireError:
        return "auto"


def analyze_project(project, base_dir=None, network=None) -> Analysis:
    """``analyze`` of one of the project's networks (default: its main one), with the
    data check when the project names a dataset whose description is known.

    In a GAN project (``"recipe": "adversarial"``) the discriminator is checked for
    taking the data's samples and giving one logit, and the generator for giving as
    many numbers as a sample; other networks are analysed on their own.
    """
    from engine.project import adversarial_networks

    network = project.network if network is None else network
    analysis = analyze(network)
    info = describe(project.dataset, base_dir) if project.dataset else None
    roles = adversarial_networks(project.training)
    if roles is not None:
        role = next((r for r, name in roles.items() if project.networks.get(name) is network), None)
        if role is not None:
            analysis.add(_gan_fit(analysis, info, role))
    elif info is not None and network is project.network:
        analysis.add(check_fit(analysis, info, loss_name(project.training)))
    return analysis


def gan_suggestion(info: DataInfo) -> str:
    """What a GAN's two networks must take and give for the data ``info`` describes."""
    count = math.prod(info.sample_shape)
    return (
        f"{info.name} for a GAN: the discriminator takes samples {fmt_shape(info.sample_shape)} "
        f"and ends with one logit (out_features=1); the generator ends with {count} numbers, "
        "one sample. The labels are not used."
    )


def _gan_fit(analysis: Analysis, info: DataInfo | None, role: str) -> list[Diagnostic]:
    """A GAN network against the data: the discriminator takes samples and gives one
    logit; the generator gives as many numbers as a sample."""
    network = analysis.network
    outputs = [n.id for n in network.nodes if n.spec.role == "output"]
    shape = analysis.shapes.get(outputs[0]) if len(outputs) == 1 else None
    found = []
    if role == "discriminator":
        found += _input_fit(network, info) if info is not None else []
        if shape is not None and math.prod(shape) != 1:
            found.append(Diagnostic(ERROR, (
                f"{outputs[0]}: the discriminator must give one logit, not "
                f"{fmt_shape(shape)}; set its last layer's out_features to 1"), outputs[0]))  # fmt: skip
    elif info is not None and shape is not None:
        wanted = math.prod(info.sample_shape)
        if math.prod(shape) != wanted:
            found.append(Diagnostic(ERROR, (
                f"{outputs[0]}: the generator gives {fmt_shape(shape)} ({math.prod(shape)} "
                f"numbers) but {info.name} samples are {fmt_shape(info.sample_shape)}: make its "
                f"last layer give {wanted} numbers"), outputs[0]))  # fmt: skip
    return found
