"""The declaration of a layer type: ``Param`` and ``LayerSpec``.

A layer type is defined once, as a ``LayerSpec``, and everything else reads it: the
palette and the inspector (family, help, parameters), validation and shape inference
(``infer``), parameter and MAC counts, compilation (``module`` and ``emit``) and the
generated Python code. Nothing here imports torch: shape rules and counts work on
shapes alone, so analysing a network never allocates its tensors.

Shapes leave out the batch dimension: an 8x8 grey image is ``(1, 8, 8)``.
Dimension parameters (``dim``, ``start_dim``) keep torch's meaning and count the batch
dimension, so that what a user learns here carries over to PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.bounds import FLOAT_MAX, INT_MAX, shown
from engine.errors import ParamError

Shape = tuple[int, ...]

PARAM_KINDS = ("int", "float", "bool", "choice", "int_or_tuple", "shape", "float_or_tuple")
MAX_DIMS = 16  # far beyond any layer here, well within torch's 64


@dataclass(frozen=True)
class Param:
    """One parameter of a layer type.

    Attributes:
        name: torch.nn's name for it (``out_features``, ``kernel_size``).
        kind: one of ``PARAM_KINDS``:
            ``int``, ``float``, ``bool``; ``choice`` (one of ``choices``);
            ``int_or_tuple`` (an int, or a list of ``length`` ints, like kernel_size);
            ``float_or_tuple`` (the same with floats, like Upsample's scale_factor);
            ``shape`` (a list of one or more positive ints, like an Input's shape).
        default: the value a new node gets.
        help: one line a learner understands.
        minimum / maximum: inclusive bounds for numbers (each element of a tuple).
            None means the widest a machine holds: +-``INT_MAX`` (a Qt int spin box)
            for whole numbers, +-``FLOAT_MAX`` for floats (``lower`` / ``upper``).
        choices: the allowed values of a ``choice``; for ``int_or_tuple``, named
            alternatives accepted besides numbers (a Conv's padding ``"same"``).
        length: the tuple length of ``int_or_tuple`` / ``float_or_tuple``.
        optional: ``None`` is allowed (shown as "auto" or "none").
    """

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    length: int = 2
    optional: bool = False

    def __post_init__(self):
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    @property
    def lower(self) -> float:
        """The smallest value allowed: ``minimum``, or the most negative a machine holds."""
        return self.minimum if self.minimum is not None else -self._limit()

    @property
    def upper(self) -> float:
        """The largest value allowed: ``maximum``, or the largest a machine holds."""
        return self.maximum if self.maximum is not None else self._limit()

    def _limit(self) -> float:
        return FLOAT_MAX if self.kind in ("float", "float_or_tuple") else INT_MAX

    def check_type(self, value: Any) -> Any:
        """Return ``value`` normalised to this parameter's type, or raise ParamError.

        Lists become tuples for ``*_or_tuple``, and ints are accepted for floats.
        Numbers beyond what a machine holds (``bounds``) are refused here, the layer's
        own range only in ``check``: a file with ``p: 1.5`` opens and shows the error
        on the node, one with ``out_features: 1e308`` does not open.
        """
        value = self._check_type(value)
        if value is None or self.kind in ("bool", "choice") or isinstance(value, str):
            return value
        limit = self._limit()
        for number in value if isinstance(value, tuple) else (value,):
            if abs(number) > limit:
                raise ParamError(
                    f"{self.name} is {shown(number)}, beyond {shown(limit)}, the largest "
                    "value it can hold"
                )
        if self.kind == "shape":
            _check_shape_size(self.name, value)
        return value

    def _check_type(self, value: Any) -> Any:
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"{self.name} needs a value")
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise ParamError(f"{self.name} must be true or false, got {value!r}")
        if kind == "int":
            return _as_int(self.name, value)
        if kind == "float":
            return _as_float(self.name, value)
        if kind == "choice":
            if value in self.choices and type(value) is type(self.choices[0]):
                return value
            options = ", ".join(str(c) for c in self.choices)
            raise ParamError(f"{self.name} must be one of {options}; got {value!r}")
        if kind in ("int_or_tuple", "float_or_tuple"):
            if isinstance(value, str) and value in self.choices:
                return value
            convert = _as_int if kind == "int_or_tuple" else _as_float
            if isinstance(value, list | tuple):
                if len(value) != self.length:
                    raise ParamError(
                        f"{self.name} must be one number or {self.length} numbers, got {len(value)}"
                    )
                return tuple(convert(self.name, v) for v in value)
            return convert(self.name, value)
        # shape
        if not isinstance(value, list | tuple) or not value:
            raise ParamError(f"{self.name} must be a list of sizes such as [1, 28, 28]")
        return tuple(_as_int(self.name, v) for v in value)

    def check(self, value: Any) -> Any:
        """Return ``value`` normalised, or raise ParamError on a wrong type or range."""
        value = self.check_type(value)
        if value is None or self.kind in ("bool", "choice") or isinstance(value, str):
            return value
        numbers = value if isinstance(value, tuple) else (value,)
        for number in numbers:
            if number < self.lower:
                raise ParamError(f"{self.name} must be at least {_fmt(self.lower)}, got {number}")
            if number > self.upper:
                raise ParamError(f"{self.name} must be at most {_fmt(self.upper)}, got {number}")
        return value

    def to_json(self, value: Any) -> Any:
        """The value as stored in a project file (tuples become lists)."""
        return list(value) if isinstance(value, tuple) else value


def _fmt(number: float) -> str:
    if abs(number) >= 1e15:
        return shown(number)
    return str(int(number)) if float(number).is_integer() else str(number)


def _check_shape_size(name: str, shape: tuple) -> None:
    """A shape must fit in a tensor: few dimensions, at most INT_MAX numbers a sample."""
    if len(shape) > MAX_DIMS:
        raise ParamError(f"{name} has {len(shape)} dimensions; at most {MAX_DIMS} are allowed")
    count = math.prod(abs(size) for size in shape)
    if count > INT_MAX:
        raise ParamError(
            f"{name} {list(shape)} makes samples of {shown(count)} numbers; at most "
            f"{INT_MAX:,} are allowed"
        )


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ParamError(f"{name} must be a whole number, got {value!r}")
        value = int(value)
    return value


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ParamError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def pair(value: int | float | Sequence, length: int = 2) -> tuple:
    """Expand an int-or-tuple parameter into a tuple of ``length`` values."""
    if isinstance(value, tuple | list):
        return tuple(value)
    return (value,) * length


# Signatures of the callables a LayerSpec holds. ``params`` is the node's full,
# checked parameter dict; ``inputs`` the shapes arriving at its input ports, in order.
InferFn = Callable[[dict, list[Shape]], Shape]
CountFn = Callable[[dict, list[Shape]], int]
MacsFn = Callable[[dict, list[Shape], Shape], int]
ModuleFn = Callable[[dict, list[Shape]], "tuple[str, dict] | None"]
EmitFn = Callable[..., Any]
PortsFn = Callable[[dict], tuple[str, ...]]
SummaryFn = Callable[[dict], str]
# Import, the reverse of ``module`` and ``emit``: a torch module -> the params it keeps
# under other attribute names; a call's (args, kwargs) -> params.
ReadFn = Callable[[Any], dict]
CallReadFn = Callable[[tuple, dict], dict]


class NoMatch(Exception):
    """A call of a layer type's function with a setting the layer cannot express.

    Raised by a ``Call.read``; its message names the setting (``torch.add with
    alpha 2``) and import lists it with whatever else it cannot map.
    """


def argument(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    """A call's argument given by keyword ``name`` or at position ``index``."""
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def arguments(**positions: tuple[int | None, Any]) -> CallReadFn:
    """A ``Call.read`` taking each param from a position or keyword of the call.

    ``arguments(dim=(1, None))`` reads ``softmax(x, 1)`` and ``softmax(x, dim=1)``; a
    position of None means keyword only. A value of None keeps the param's default.
    """

    def read(args: tuple, kwargs: dict) -> dict:
        found = {}
        for name, (index, default) in positions.items():
            if index is None:
                value = kwargs.get(name, default)
            else:
                value = argument(args, kwargs, index, name, default)
            if value is not None:
                found[name] = value
        return found

    return read


def _no_params(args: tuple, kwargs: dict) -> dict:
    return {}


@dataclass(frozen=True)
class Call:
    """A functional form of a layer type, which ``deepwire import`` maps onto it.

    Attributes:
        functions: dotted names of functions (``"torch.nn.functional.relu"``), looked
            up only when an import runs, so that the catalogue never imports torch.
        methods: tensor method names (``"relu"`` for ``x.relu()``).
        read: the params from the call's ``(args, kwargs)``, in which tensors are
            torch.fx nodes; raises NoMatch for a setting the layer cannot express.
            The tensors among the arguments, in order, become the node's inputs.
        chained: the layer is emitted as a chain of these two-input calls (``a + b +
            c``), which import folds back into one node of ``num_inputs``.
        inputs: the node's inputs from ``(args, kwargs)``, for a call whose settings
            come from another tensor (``size=y.shape[2:]``: ``[x, y]``); None means the
            tensors among the arguments. The nodes that compute such settings from it
            become part of this node.
        shared: other layers match these functions too (``x[:, 0]`` is a Select,
            ``x[:, :1]`` a Slice); each is tried in catalogue order, and the first
            whose ``read`` accepts the call wins.
    """

    functions: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    read: CallReadFn = _no_params
    chained: bool = False
    inputs: Callable[[tuple, dict], list] | None = None
    shared: bool = False


def normalize_read(param: Param, value: Any) -> Any:
    """A value read from a torch module as the param holds it.

    A bool param read as a tensor or None (``bias``) says whether there is one; a
    tuple of equal numbers is one number (``kernel_size`` (3, 3) is 3).
    """
    if param.kind == "bool" and not isinstance(value, bool):
        return value is not None
    if isinstance(value, list):
        value = tuple(value)
    one_number = param.kind == "int" or param.kind.endswith("_or_tuple")
    if isinstance(value, tuple) and one_number and len(set(value)) == 1:
        return value[0]
    return value


@dataclass(frozen=True)
class Example:
    """A sample use of a layer type, run by the catalogue-wide tests.

    Attributes:
        inputs: one shape (without batch) per input port, e.g. ``((1, 8, 8),)``.
        params: parameter values that differ from the defaults.
    """

    inputs: tuple[Shape, ...]
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LayerSpec:
    """Everything the application knows about one layer type.

    Attributes:
        name: torch.nn's class name (``Linear``), also the ``type`` in project files.
        family: the palette group (``Dense``, ``Convolution``, ...).
        help: a sentence or two: what it does and when to use it.
        params: its parameters, in the order the inspector shows them.
        infer: the shape rule. Takes (params, input shapes), returns the output shape,
            raises ShapeError with a sentence that says what it expected and got.
        inputs: names of the input ports, or a function of params for merge layers
            whose number of inputs is a parameter.
        outputs: names of the output ports (one, or none for Output).
        count_params: number of trainable scalars, from params and input shapes.
        macs: multiply-accumulates per sample, from params, inputs and output shape.
        module: ``(torch.nn class name, constructor kwargs)``, or None for layers that
            hold no module (Add, Reshape). Inferred sizes appear in the kwargs.
        emit: how the node appears in the torch.fx graph:
            ``emit(graph, target, args, params, inputs) -> fx.Node``. Defaults to
            calling the module ``target`` with the input nodes.
        summary: the one or two settings shown on the node (``3x3, 32``).
        input_dtype: ``"float"``, or ``"long"`` for layers fed token indices.
        output_dtype: the dtype of the output, ``None`` meaning "same as the input",
            or a function of params (an Input's dtype is a parameter).
        role: ``"layer"``, or ``"input"`` / ``"output"`` for the network's boundaries,
            which become the arguments and results of the compiled forward.
        examples: sample inputs (and params) with which ``tests/engine/test_catalogue``
            checks the shape rule, counts, compilation and code export against torch;
            every layer type except Input and Output needs at least one.
        modules: the torch.nn class names ``deepwire import`` maps onto this type
            (their subclasses too); None means its own name when it holds a module.
        read: the params a module keeps under other attributes (``{"max_len":
            m.num_embeddings}``); every other param is read from the attribute of its
            name. The module rebuilt from them is compared with the original.
        calls: the functions and tensor methods import maps onto this type.
    """

    name: str
    family: str
    help: str
    infer: InferFn
    params: tuple[Param, ...] = ()
    inputs: tuple[str, ...] | PortsFn = ("in",)
    outputs: tuple[str, ...] = ("out",)
    count_params: CountFn = field(default=lambda params, inputs: 0)
    macs: MacsFn = field(default=lambda params, inputs, output: 0)
    module: ModuleFn | None = None
    emit: EmitFn | None = None
    summary: SummaryFn | None = None
    input_dtype: str = "float"
    output_dtype: str | Callable[[dict], str] | None = None
    role: str = "layer"
    examples: tuple[Example, ...] = ()
    modules: tuple[str, ...] | None = None
    read: ReadFn | None = None
    calls: tuple[Call, ...] = ()

    def param(self, name: str) -> Param:
        """The parameter called ``name``; raises ParamError if there is none."""
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise ParamError(f"{self.name} has no parameter {name!r} (it has: {known})")

    def defaults(self) -> dict[str, Any]:
        """A fresh dict of the default parameter values."""
        return {p.name: p.default for p in self.params}

    def input_ports(self, params: dict) -> tuple[str, ...]:
        """The input port names for these parameters."""
        if callable(self.inputs):
            return self.inputs({**self.defaults(), **params})
        return self.inputs

    def check_params(self, params: dict) -> dict[str, Any]:
        """Defaults completed by ``params``, each checked; raises ParamError."""
        for name in params:
            self.param(name)
        return {p.name: p.check(params.get(p.name, p.default)) for p in self.params}

    def module_names(self) -> tuple[str, ...]:
        """The torch.nn class names that import maps onto this type."""
        if self.modules is not None:
            return self.modules
        return (self.name,) if self.module is not None else ()

    def read_module(self, module: Any) -> dict[str, Any]:
        """This type's params read from a torch module (see ``read``).

        Params the module does not keep are left out and take their defaults.
        """
        found = dict(self.read(module)) if self.read is not None else {}
        params = {}
        for param in self.params:
            if param.name in found:
                value = found[param.name]
            elif hasattr(module, param.name):
                value = getattr(module, param.name)
            else:
                continue
            params[param.name] = normalize_read(param, value)
        return params

    def describe(self, params: dict) -> str:
        """The short text shown on a node: its key settings."""
        if self.summary is not None:
            return self.summary(params)
        return ""
