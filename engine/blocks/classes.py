"""One Python class per block type, for the generated code.

Every instance of a block type is compiled (on the meta device) and its inside read:
the modules it declares and its forward. Instances that share a forward share one class
(``BasicBlock``), written the way a person writes torchvision's: each constructor
argument of an inner module is a literal when every instance agrees, the block's own
parameter when it is bound to one (or equals one in every instance), the input's
channels or features when it follows them (``in_channels``), and otherwise an argument
named after the node (``conv1_groups``). Each instance is then constructed with its own
values, so the state_dict keys of the generated model follow the nesting exactly as the
compiled one does.
"""

from __future__ import annotations

import builtins
import keyword
import textwrap
from dataclasses import dataclass, field
from typing import Any

from engine.layers.own import constructor
from engine.naming import literal

# Names that the generated code uses with their Python meaning: a constructor argument
# (a block's parameter) named so would hide it inside ``__init__``...
HIDDEN_BY_ARGUMENTS = frozenset({"self", "super", "torch", "__class__"})
# ...and a class (a block type) named so would hide it everywhere (Scale calls float).
HIDDEN_BY_CLASSES = HIDDEN_BY_ARGUMENTS | frozenset(dir(builtins))


@dataclass
class Instance:
    """One block instance met while generating code.

    Attributes:
        path: where it sits in the model (``layer1`` or ``layer1.branch``).
        node: the instance node (its type names the block type).
        module: its compiled inside (a GraphModule).
        network: its resolved inside (the network ``module`` was compiled from).
        inputs: the shapes arriving at its input ports.
        children: ``(name, kind, detail)`` per submodule, in order: kind ``"module"``
            with ``(torch.nn class, kwargs)`` or ``"block"`` with the nested Instance.
        class_name / args: the class that builds it and the value of each of that
            class's constructor arguments for this instance (set by ``write_classes``).
    """

    path: str
    node: Any
    module: Any
    network: Any
    inputs: list
    forward: list[str]
    children: list = field(default_factory=list)
    class_name: str = ""
    args: dict = field(default_factory=dict)


@dataclass
class _Signature:
    """Constructor arguments of one class: name -> value per instance, in order.

    ``reserved`` holds the names an argument must not take: the classes its body
    calls and the names Python gives a meaning there.
    """

    reserved: set[str]
    values: dict[str, list] = field(default_factory=dict)

    def take(self, name: str, values: list) -> str | None:
        """Use ``name`` (made safe) for ``values``; None when it is taken by other values."""
        name = _safe_name(name, self.reserved)
        if name in self.values and self.values[name] != values:
            return None
        self.values[name] = values
        return name


def _safe_name(name: str, reserved: set[str]) -> str:
    """``name`` as an argument name that means itself: without the leading ``__`` that
    Python mangles inside a class body, and suffixed with ``_`` while it is taken."""
    if name.startswith("__"):
        name = name.lstrip("_") or "value"
    while name in reserved or keyword.iskeyword(name):
        name += "_"
    return name


def write_classes(instances: list[Instance], taken: set[str]) -> list[str]:
    """The source of one class per block type (and forward variant), inner first.

    Sets ``class_name`` and ``args`` on every instance. ``taken`` holds names the code
    already uses (the model's class name); it is extended with the new class names.
    """
    by_type: dict[str, list[Instance]] = {}
    for instance in sorted(instances, key=lambda i: -i.path.count(".")):
        by_type.setdefault(instance.node.type, []).append(instance)
    sources = []
    for type_name in sorted(by_type, key=lambda name: _depth_order(by_type, name)):
        variants: dict[tuple, list[Instance]] = {}
        for instance in by_type[type_name]:
            key = (tuple(instance.forward), _child_classes(instance))
            variants.setdefault(key, []).append(instance)
        for index, group in enumerate(variants.values()):
            base = type_name if index == 0 else f"{type_name}_{index + 1}"
            name = _free_name(base, taken | HIDDEN_BY_CLASSES)
            taken.add(name)
            sources.append(_class_source(name, group, taken | HIDDEN_BY_ARGUMENTS))
    return sources


def _depth_order(by_type: dict, name: str) -> int:
    """Types nested deeper are written first (their classes are used by the outer)."""
    return -max(i.path.count(".") for i in by_type[name])


def _child_classes(instance: Instance) -> tuple:
    return tuple(d.class_name for _, kind, d in instance.children if kind == "block")


def _free_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate = f"{name}_{number}"
        number += 1
    return candidate


def _class_source(name: str, group: list[Instance], reserved: set[str]) -> str:
    """The class of ``group`` (instances with one forward); sets their name and args,
    which avoid the names in ``reserved``."""
    first = group[0]
    signature = _Signature(reserved)
    lines = []
    for child, kind, detail in first.children:
        if kind == "module":
            cls, _ = detail
            kwargs = [dict(inst_detail(i, child)[1]) for i in group]
            call = constructor(cls)
        else:
            kwargs = [dict(inst_detail(i, child).args) for i in group]
            call = detail.class_name
        parts = []
        for key in kwargs[0]:
            values = [k[key] for k in kwargs]
            parts.append(f"{key}={_expression(signature, group, child, key, values)}")
        lines.append(f"        self.{child} = {call}({', '.join(parts)})")
        if not first.network.node(child).trainable:
            lines.append(f"        self.{child}.requires_grad_(False)  # frozen in Deepwire")
    for index, instance in enumerate(group):
        instance.class_name = name
        instance.args = {arg: values[index] for arg, values in signature.values.items()}
    block_type = first.node.spec.block_type
    doc = block_type.help or f"The block {block_type.name} as drawn in Deepwire."
    head = [
        f"class {name}(torch.nn.Module):",
        f"    {_docstring(doc)}",
        "",
        f"    def __init__(self{''.join(', ' + arg for arg in signature.values)}):",
        "        super().__init__()",
    ]
    return "\n".join([*head, *lines, "", *first.forward]) + "\n"


def inst_detail(instance: Instance, child: str):
    """The detail of ``instance``'s child ``child`` (module declaration or Instance)."""
    for name, _, detail in instance.children:
        if name == child:
            return detail
    raise KeyError(child)


def _expression(signature: _Signature, group: list[Instance], child: str, key: str, values):
    """How the class writes one constructor argument of a child (see module docstring).

    A setting the user chose on the inner node stays a literal unless it is bound or
    differs between instances. A size Deepwire inferred (``in_channels``,
    ``num_features``) follows what feeds the node: the block's input
    (``in_channels``) when a port feeds it, else the block parameter it equals.
    """
    if all(isinstance(v, tuple) and len(v) == 1 for v in values):
        inner = _expression(signature, group, child, key, [v[0] for v in values])
        return inner if inner.startswith("(") else f"({inner},)"
    first = group[0]
    block_type = first.node.spec.block_type
    inside = block_type.network
    inner = inside.node(child) if child in inside else None
    bound = inner.bind.get(key) if inner is not None else None
    chosen = inner is not None and not inner.is_block and key in inner.spec.defaults()
    params = [i.node.params for i in group]
    if bound is not None and all(v == p.get(bound) for v, p in zip(values, params)):
        return _argument(signature, bound, values, child, key)
    same = all(v == values[0] for v in values)
    if chosen and same:
        return literal(values[0])
    size = (
        None
        if chosen
        else _input_size_name(block_type.input_names(), [i.inputs for i in group], values)
    )
    if size and _fed_by_port(inside, child):
        return _argument(signature, size, values, child, key)
    for param in block_type.params:
        if all(v == p.get(param.name) for v, p in zip(values, params)):
            return _argument(signature, param.name, values, child, key)
    if size:
        return _argument(signature, size, values, child, key)
    if same:
        return literal(values[0])
    return _argument(signature, f"{child}_{key}", values, child, key)


def _fed_by_port(inside, child: str) -> bool:
    """Whether a block Input feeds inner node ``child`` directly."""
    if child not in inside:
        return False
    return any(inside.node(w.src).type == "Input" for w in inside.wires_of(child) if w.dst == child)


def _input_size_name(ports: tuple, inputs: list[list], values: list) -> str | None:
    """``in_channels`` / ``in_features`` when ``values`` follow an input's size."""
    for index, port in enumerate(ports):
        prefix = "in" if len(ports) == 1 else port
        shapes = [shapes_of[index] for shapes_of in inputs]
        if all(len(s) and v == s[0] for v, s in zip(values, shapes)):
            return f"{prefix}_{'features' if len(shapes[0]) == 1 else 'channels'}"
        if all(len(s) > 1 and v == s[-1] for v, s in zip(values, shapes)):
            return f"{prefix}_features"
    return None


def _argument(signature: _Signature, name: str, values: list, child: str, key: str) -> str:
    """The argument for ``values``: ``name``, else ``{child}_{key}`` (numbered if need be)."""
    chosen = signature.take(name, values) or signature.take(f"{child}_{key}", values)
    number = 2
    while chosen is None:
        chosen = signature.take(f"{child}_{key}_{number}", values)
        number += 1
    return chosen


def _docstring(text: str) -> str:
    """``text`` as a docstring, wrapped, safe whatever it holds: it is written by
    ``literal`` (printable ASCII, no double quote), with its quotes unescaped, which a
    triple-quoted string does not need."""
    body = literal(text)[1:-1].replace("\\'", "'")
    lines = textwrap.wrap(body, 84, break_long_words=False, break_on_hyphens=False) or [""]
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    return '"""' + "\n    ".join(lines) + '\n    """'
