"""A block type: a small network with ports and exposed parameters.

Its Input nodes are the block's input ports and its Output nodes its output ports, both
named by their ids and ordered as the nodes are. An Input's own ``shape`` is the
example shape with which the type is shown and checked on its own; an instance feeds
it the shape that really arrives. Exposed parameters are ``Param`` declarations (the
catalogue's own class); an inner node reads one through its ``bind``.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import NetworkError, ParamError
from engine.layers import CATALOGUE
from engine.layers.spec import Param

if TYPE_CHECKING:
    from engine.blocks.library import BlockLibrary
    from engine.network import Network

MAX_NAME = 64  # characters of a block name
_NAME = re.compile(rf"^[A-Za-z][A-Za-z0-9_]{{0,{MAX_NAME - 1}}}$")
EXPOSABLE_KINDS = ("int", "float", "bool", "choice", "int_or_tuple", "float_or_tuple")
_PARAM_FIELDS = {"name", "kind", "default", "help", "minimum", "maximum", "choices", "length"}


def check_block_name(name: object, library: BlockLibrary | None = None) -> str:
    """Return ``name`` if a new block type may take it; else NetworkError saying why.

    A block type becomes a Python class in generated code, so its name is an
    identifier; it must not hide a layer type of the catalogue or another block type.
    """
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name):
        raise NetworkError(
            f"{name!r} is not a valid block name: use letters, digits and _, starting with "
            f"a letter (at most {MAX_NAME}), such as BasicBlock"
        )
    if name in CATALOGUE or name == "torch":
        raise NetworkError(f"{name} is a layer type already; choose another block name")
    if library is not None and name in library:
        raise NetworkError(f"the project already has a block type named {name}")
    return name


@dataclass
class BlockType:
    """A reusable block: its inside, its exposed parameters and a line of help.

    Attributes:
        name: the type name instances use (``BasicBlock``), also its class name in code.
        network: the inside. Its ``owner`` is this block type.
        params: the exposed parameters, in the order the inspector shows them.
        help: what the block does, shown in the palette.
    """

    name: str
    network: Network
    params: tuple[Param, ...] = ()
    help: str = ""
    _library: BlockLibrary | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.network.owner = self
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ParamError(f"block {self.name} exposes a parameter name twice")

    @classmethod
    def from_data(cls, name: str, data: dict, library: BlockLibrary) -> BlockType:
        """A type from its file-layout data (``to_dict``; checked by the caller), its
        inside sharing ``library``."""
        from engine.network import Network

        inside = Network.from_dict(
            {k: data[k] for k in ("direction", "nodes", "edges") if k in data},
            "inside",
            library=library,
        )
        params = tuple(param_from_dict(p) for p in data.get("params", []))
        return cls(name, inside, params, data.get("help", ""))

    # ----------------------------------------------------------------- ports
    def input_names(self) -> tuple[str, ...]:
        """Input port names: the ids of the inside's Input nodes, in node order."""
        return tuple(n.id for n in self.network.nodes if n.type == "Input")

    def output_names(self) -> tuple[str, ...]:
        """Output port names: the ids of the inside's Output nodes, in node order."""
        return tuple(n.id for n in self.network.nodes if n.type == "Output")

    def used_types(self) -> set[str]:
        """Names of the block types instantiated directly inside."""
        library = self.network.library
        return {n.type for n in self.network.nodes if n.type in library}

    def param(self, name: str) -> Param:
        """The exposed parameter ``name``; ParamError if there is none."""
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise ParamError(f"block {self.name} has no parameter {name!r} (it has: {known})")

    def defaults(self) -> dict[str, Any]:
        """The exposed parameters' default values."""
        return {p.name: p.default for p in self.params}

    # ----------------------------------------------------------------- library
    def attach(self, library: BlockLibrary) -> None:
        """Share ``library`` (the project's) and tell it when the inside changes."""
        if self._library is library:
            return
        self._library = library
        self.network.use_library(library)
        for signal in self.network.events.signals():
            signal.connect(self._on_inside_changed)

    def detach(self) -> None:
        """Stop announcing changes to the library (the type was removed)."""
        for signal in self.network.events.signals():
            signal.disconnect(self._on_inside_changed)
        self._library = None

    def _on_inside_changed(self, *args) -> None:
        if self._library is not None:
            self._library.touch()

    # ----------------------------------------------------------------- data
    def to_dict(self) -> dict:
        """The type as plain data, in the project file's ``blocks`` layout."""
        data: dict[str, Any] = {}
        if self.help:
            data["help"] = self.help
        data["params"] = [param_to_dict(p) for p in self.params]
        data.update(self.network.to_dict())
        return data


def param_to_dict(param: Param) -> dict:
    """An exposed parameter as plain data (only what differs from Param's defaults)."""
    data: dict[str, Any] = {
        "name": param.name,
        "kind": param.kind,
        "default": param.to_json(param.default),
    }
    if param.help:
        data["help"] = param.help
    if param.minimum is not None:
        data["minimum"] = param.minimum
    if param.maximum is not None:
        data["maximum"] = param.maximum
    if param.choices:
        data["choices"] = list(param.choices)
    if param.kind.endswith("_or_tuple") and param.length != 2:
        data["length"] = param.length
    return data


def param_from_dict(data: Any) -> Param:
    """An exposed parameter from plain data; ParamError with the reason."""
    if not isinstance(data, dict):
        raise ParamError("a block parameter must be an object with a name, kind and default")
    unknown = sorted(set(data) - _PARAM_FIELDS)
    if unknown:
        raise ParamError(f"a block parameter has an unknown field {unknown[0]!r}")
    name, kind = data.get("name"), data.get("kind")
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ParamError(f"block parameter name {name!r} is not a valid name")
    if kind not in EXPOSABLE_KINDS:
        raise ParamError(
            f"block parameter {name}: kind must be one of {', '.join(EXPOSABLE_KINDS)}"
        )
    for bound in ("minimum", "maximum"):
        value = data.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ParamError(f"block parameter {name}: {bound} must be a number")
    choices = data.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str | int | float) for c in choices):
        raise ParamError(f"block parameter {name}: choices must be a list of values")
    if len({type(c) for c in choices}) > 1:  # a value is one of them only with their type
        raise ParamError(f"block parameter {name}: choices must be all text or all numbers")
    if not all(c.isprintable() and len(c) <= MAX_NAME for c in choices if isinstance(c, str)):
        raise ParamError(
            f"block parameter {name}: a choice must be one line of at most {MAX_NAME} characters"
        )
    if kind == "choice" and not choices:
        raise ParamError(f"block parameter {name}: a choice needs its choices")
    length = data.get("length", 2)
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 3:
        raise ParamError(f"block parameter {name}: length must be 1, 2 or 3")
    help_text = data.get("help", "")
    if not isinstance(help_text, str):
        raise ParamError(f"block parameter {name}: help must be text")
    param = Param(
        name,
        kind,
        None,
        help_text,
        minimum=data.get("minimum"),
        maximum=data.get("maximum"),
        choices=tuple(choices),
        length=length,
    )
    default = param.check(data.get("default"))
    return Param(
        name, kind, default, help_text, param.minimum, param.maximum, param.choices, length
    )
