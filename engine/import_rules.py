"""How a traced PyTorch graph maps onto the layer catalogue: the graph walk of ``import_model``.

The mapping of each layer type lives in its LayerSpec: the torch.nn classes it imports
from (``modules``), how its params are read from such a module (``read``) and the
functions and tensor methods it matches (``calls``). This module only reads the
catalogue and walks a torch.fx graph once (``plan_graph``), turning each module call or
function into a ``Planned`` node, or recording it as unmappable, by name.

A module maps by its torch.nn class, by the one it subclasses (timm's ``BatchNormAct2d``
is a BatchNorm2d), or as one of Deepwire's own classes that ``deepwire code`` writes
(same name, same code); fx would trace through the last two, so they are kept as calls
(``leaf_tracer``). Settings a call takes from another tensor (``size=y.shape[2:]``)
make that tensor an input, and the nodes computing them part of the call. A subclass that also holds layers it applies after its own forward
(``BatchNormAct2d``'s drop and act) becomes its base layer followed by those layers;
``engine.importer`` checks that on the model before trusting it. Sizes the catalogue
infers (``in_features``) are not read, they are checked afterwards by rebuilding the
module. A few layers are emitted by Deepwire as more than one graph node (an LSTM and
``[0]``, a PositionalEmbedding's ``arange``); ``plan_graph`` folds those patterns back
into one node, so that ``deepwire code`` output imports as the network it came from.
"""

from __future__ import annotations

import functools
import importlib
import operator
from dataclasses import dataclass, field
from typing import Any

from engine.layers import CATALOGUE
from engine.layers.own import OWN_MODULES
from engine.layers.spec import Call, LayerSpec, NoMatch

RECURRENT = ("RNN", "LSTM", "GRU")
# The parts of a subclass that is its base layer applied with the channels moved last
# (a LayerNorm2d), followed by the rank: "channels-last:4".
CHANNELS_LAST = "channels-last:"
# Types that no single module or call gives: plan_graph folds a pattern into them.
PATTERNS = ("PositionalEmbedding",)


@dataclass
class Planned:
    """A node to create: its fx name, catalogue type, params and input fx nodes."""

    name: str
    type: str
    params: dict[str, Any]
    inputs: list = field(default_factory=list)
    module: Any = None  # the torch module it came from, to verify and copy weights
    target: str | None = None  # that module's path in the traced model
    class_name: str | None = None  # the model's own class when it subclasses ``module``'s


@dataclass(frozen=True)
class Unmapped:
    """One call with no Deepwire layer: its fx node's name, where it is, and why."""

    node: str
    place: str  # a module's path, or the fx node's name in the module whose forward made it
    cause: str  # the same text for every place with the same cause, so they group
    noun: str = "call"  # what a place is: a module, a call, a tensor


@dataclass
class Plan:
    """The result of ``plan_graph``."""

    nodes: list[Planned] = field(default_factory=list)
    alias: dict = field(default_factory=dict)  # fx node -> Planned that produces it
    outputs: list = field(default_factory=list)  # fx nodes returned by forward
    unmapped: list[Unmapped] = field(default_factory=list)

    def drop_unmapped(self, fx_names: set[str]) -> None:
        """Forget the unmapped calls that a layer turned out to hold (its helpers)."""
        self.unmapped = [u for u in self.unmapped if u.node not in fx_names]


class CatalogueIndex:
    """The catalogue read backwards: torch.nn class names, functions and methods -> specs."""

    def __init__(self, catalogue: dict[str, LayerSpec]):
        self.modules: dict[str, LayerSpec] = {}
        self.functions: dict[Any, list[tuple[LayerSpec, Call]]] = {}
        self.methods: dict[str, list[tuple[LayerSpec, Call]]] = {}
        for spec in catalogue.values():
            for name in spec.module_names():
                if name in self.modules:
                    first = self.modules[name].name
                    raise RuntimeError(f"torch.nn.{name} imports as both {first} and {spec.name}")
                self.modules[name] = spec
            for call in spec.calls:
                for dotted in call.functions:
                    self._put(self.functions, _resolve(spec, dotted), spec, call, dotted)
                for method in call.methods:
                    self._put(self.methods, method, spec, call, f"method .{method}()")

    @staticmethod
    def _put(table: dict, key, spec: LayerSpec, call: Call, what: str) -> None:
        """Add a match; several layers may share a function only if each says so."""
        others = table.setdefault(key, [])
        if others and not (call.shared and all(c.shared for _, c in others)):
            raise RuntimeError(f"{what} imports as both {others[0][0].name} and {spec.name}")
        others.append((spec, call))

    def module_spec(self, cls: type) -> tuple[LayerSpec | None, type | None]:
        """The spec of a module class and the class it is read as, or (None, None).

        That class is a torch.nn class ``cls`` is or subclasses, or one of Deepwire's own
        (``engine.layers.modules``) as ``deepwire code`` writes it: same name, same code.
        """
        for klass in cls.__mro__:
            spec = self.modules.get(klass.__name__)
            if spec is not None and (klass.__module__.startswith("torch.nn.") or _is_own(klass)):
                return spec, klass
            spec = self.modules.get(f"{klass.__module__}.{klass.__qualname__}")
            if spec is not None:  # another library's class, named in full by the spec
                return spec, klass
        return None, None

    def function(self, target) -> list[tuple[LayerSpec, Call]]:
        """The specs and Calls that a function matches, in catalogue order."""
        try:
            return self.functions.get(target, [])
        except TypeError:  # an unhashable callable
            return []


def _is_own(cls: type) -> bool:
    """Whether ``cls`` is one of Deepwire's own module classes, or a copy of its code."""
    if cls.__name__ not in OWN_MODULES:
        return False
    from engine.layers.modules import OWN

    own = OWN[cls.__name__]
    return all(
        _same_code(getattr(cls, name).__code__, getattr(own, name).__code__)
        for name in ("__init__", "forward")
    )


def _is_foreign(cls: type) -> bool:
    """Another library's class that a spec names in full (timm's DropPath)."""
    return not (cls.__module__.startswith("torch.nn.") or _is_own(cls))


def _same_code(a, b) -> bool:
    """The same bytecode, names and constants, wherever (and on whichever lines) it was written."""
    if a.co_code != b.co_code or a.co_names != b.co_names or len(a.co_consts) != len(b.co_consts):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        same = _same_code(x, y) if hasattr(x, "co_code") and hasattr(y, "co_code") else x == y
        if not same:
            return False
    return True


def _resolve(spec: LayerSpec, dotted: str):
    where, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(where), name)
    except (ImportError, AttributeError, ValueError):
        raise RuntimeError(f"{spec.name} matches {dotted}, which does not exist") from None


@functools.cache
def catalogue_index() -> CatalogueIndex:
    """The index of the catalogue (built once, when an import first needs it)."""
    return CatalogueIndex(CATALOGUE)


# ---------------------------------------------------------------- subclasses


def subclass_leaves(model) -> set[type]:
    """The classes in ``model`` the catalogue reads that fx would trace through: subclasses
    of torch.nn layers and Deepwire's own modules (traced as leaves)."""
    index = catalogue_index()
    leaves = set()
    for module in model.modules():
        spec, _ = index.module_spec(type(module))
        if spec is not None and not type(module).__module__.startswith("torch.nn."):
            leaves.add(type(module))
    return leaves


def leaf_tracer(leaves: set[type], through: frozenset[int] = frozenset()):
    """A torch.fx Tracer that keeps modules of the ``leaves`` classes (and torch.nn's own
    layers) as calls, except those whose ``id`` is in ``through``, whose code it reads."""
    import torch.fx

    class LeafTracer(torch.fx.Tracer):
        def is_leaf_module(self, module, qualified_name: str) -> bool:
            if type(module) in leaves:
                return id(module) not in through
            return super().is_leaf_module(module, qualified_name)

    return LeafTracer()


def overrides_forward(module) -> bool:
    """Whether a subclass replaces its catalogue base class's forward."""
    _, base = catalogue_index().module_spec(type(module))
    return base is not None and type(module).forward is not base.forward


def composite_parts(module) -> tuple[str, ...]:
    """The child layers a subclass likely applies after its base forward, in order.

    ``BatchNormAct2d`` -> ``("drop", "act")`` minus Identities: its children that are
    catalogue layers. Only a guess: ``engine.importer`` runs it before trusting it.
    """
    if not overrides_forward(module):
        return ()
    index = catalogue_index()
    parts = []
    for name, child in module.named_children():
        spec, _ = index.module_spec(type(child))
        if spec is not None and spec.name != "Identity":
            parts.append(name)
    return tuple(parts)


def base_view(module, base: type, parts: tuple[str, ...] = ()):
    """``module`` as an instance of its torch.nn ``base``: the same tensors and settings,
    without the ``parts`` that become layers of their own, nor its Identities."""
    if type(module) is base:
        return module
    view = base.__new__(base)
    view.__dict__.update(module.__dict__)
    view.__dict__["_modules"] = {
        name: child
        for name, child in module.named_children()
        if name not in parts and type(child).__name__ != "Identity"
    }
    return view


# ---------------------------------------------------------------- the walk


class _Planner:
    """One walk over an fx graph; see ``plan_graph``."""

    def __init__(self, graph_module, parts: dict[str, tuple[str, ...]] | None):
        self.gm = graph_module
        self.index = catalogue_index()
        self.parts = parts or {}
        self.plan = Plan()
        self.consumed: set = set()
        self.weighted_calls: set[str] = set()  # modules with weights already used once

    def run(self) -> Plan:
        for node in self.gm.graph.nodes:
            if node in self.consumed:
                continue
            handler = getattr(self, f"_on_{node.op}")
            handler(node)
        return self.plan

    def _add(self, planned: Planned, produces) -> Planned:
        self.plan.nodes.append(planned)
        self.plan.alias[produces] = planned
        return planned

    def _unmapped(self, node, cause: str) -> None:
        noun = {"call_module": "module", "get_attr": "tensor", "output": "output"}
        if node.op in ("call_module", "get_attr"):
            place = str(node.target)
        else:
            stack = list(node.meta.get("nn_module_stack") or {})
            place = f"{stack[-1]}:{node.name}" if stack and stack[-1] else node.name
        self.plan.unmapped.append(Unmapped(node.name, place, cause, noun.get(node.op, "call")))

    # ------------------------------------------------------------ node kinds
    def _on_placeholder(self, node):
        self._add(Planned(str(node.target), "Input", {}), node)  # the argument's own name

    def _on_output(self, node):
        result = node.args[0]
        values = list(result) if isinstance(result, tuple | list) else [result]
        for value in values:
            if not hasattr(value, "op"):
                self._unmapped(node, f"returns a constant {value!r}")
                return
        self.plan.outputs = values

    def _on_get_attr(self, node):
        """A learned tensor read in ``forward`` (a class token, a position embedding, a
        layer scale's gamma): a Scale where it multiplies channels, else a Parameter."""
        import torch

        value = _attribute(self.gm, str(node.target))
        if not (isinstance(value, torch.Tensor) and value.is_floating_point() and value.dim()):
            self._unmapped(node, "a tensor used outside a module")
            return
        value, last = self._fold_views(node, value)
        if not self._as_scale(node, value, last):
            self._as_parameter(node, value, last)

    def _fold_views(self, node, value):
        """Follow ``self.gamma.reshape(1, -1, 1, 1)`` and the like: the tensor they make,
        and the last fx node of the chain (whose users read that tensor)."""
        last = node
        while len(last.users) == 1:
            (user,) = last.users
            if not (_is_view(user) and user.args[0] is last) or _tensors(user.args[1:]):
                break
            if _tensors(tuple(user.kwargs.values())):
                break
            value = getattr(value, str(user.target))(*user.args[1:], **user.kwargs)
            self.consumed.add(user)
            last = user
        return value, last

    def _as_scale(self, node, value, last) -> bool:
        """``x * gamma`` with gamma (C, 1, ..., 1) after leading 1s: a Scale node."""
        from engine.layers.modules import Scale

        users = list(last.users)
        if len(users) != 1 or not _is_mul(users[0]) or len(users[0].args) != 2:
            return False
        mul = users[0]
        other = mul.args[1] if mul.args[0] is last else mul.args[0]
        shape = list(value.shape)
        while len(shape) > 1 and shape[0] == 1:
            shape.pop(0)
        if not hasattr(other, "op") or other is last or any(s != 1 for s in shape[1:]):
            return False
        dim = -len(shape)
        module = Scale(shape[0], dim=dim)
        module.weight.data = value.detach().reshape(-1).clone()
        self.consumed.add(mul)
        planned = Planned(_node_name(node), "Scale", {"dim": dim, "init": 1.0}, [other])
        planned.module, planned.target = module, str(node.target)
        self._add(planned, mul)
        return True

    def _as_parameter(self, node, value, last) -> None:
        """A Parameter node: one copy of the tensor per sample. A leading 1 is its batch
        (timm's ``cls_token`` is (1, 1, 768)); ``.expand(x.shape[0], -1, -1)`` of it,
        which then changes nothing, is folded in, and ``x`` gives the batch."""
        from engine.layers.modules import LearnedTensor

        shape = list(value.shape[1:] if value.dim() > 1 and value.shape[0] == 1 else value.shape)
        batch, produces = self._batch_expand(last, len(shape) + 1)
        if batch is None:
            batch = next(n for n in self.gm.graph.nodes if n.op == "placeholder")
        module = LearnedTensor(shape)
        module.weight.data = value.detach().reshape(1, *shape).clone()
        planned = Planned(_node_name(node), "Parameter", {"shape": shape}, [batch])
        planned.module, planned.target = module, str(node.target)
        self._add(planned, produces)

    def _batch_expand(self, last, rank: int):
        """(x, the expand node) for ``last.expand(x.shape[0], -1, ...)``, else (None, last)."""
        users = list(last.users)
        if len(users) != 1 or getattr(users[0], "target", None) != "expand":
            return None, last
        expand = users[0]
        sizes = expand.args[1:]
        if len(sizes) == 1 and isinstance(sizes[0], tuple | list):
            sizes = tuple(sizes[0])
        if len(sizes) != rank or any(s != -1 for s in sizes[1:]):
            return None, last
        source = _batch_of(sizes[0])
        if source is None:
            return None, last
        helpers = _size_helpers(sizes[0], source)
        if any(len(h.users) != 1 for h in helpers):
            return None, last
        self.consumed.update([expand, *helpers])
        self.plan.nodes = [p for p in self.plan.nodes if not _produced_by(self.plan, p, helpers)]
        self.plan.drop_unmapped({h.name for h in helpers})
        return source, expand

    def _on_call_module(self, node):
        module = self.gm.get_submodule(node.target)
        cls = type(module)
        spec, base = self.index.module_spec(cls)
        if spec is None:
            self._unmapped(node, f"{cls.__module__}.{cls.__name__}")
            return
        if _is_foreign(base) and any(True for _ in module.parameters()):
            self._unmapped(node, f"{cls.__name__} with weights Deepwire cannot read")
            return
        try:
            spec.read_module(module)
        except NoMatch as reason:
            self._unmapped(node, f"{cls.__name__} {reason}")
            return
        if not self._first_use(node.target, module, node):
            return
        if spec.name == "Embedding" and self._positional(node, module, base):
            return
        if spec.name in RECURRENT:
            self._recurrent(node, module, spec, base)
        elif spec.name == "MultiheadAttention":
            self._attention(node, module, spec, base)
        else:
            self._plain_module(node, module, spec, base)

    def _first_use(self, target: str, module, node) -> bool:
        if target in self.weighted_calls:
            self._unmapped(node, "shared weights (one module called twice)")
            return False
        if any(True for _ in module.parameters()):
            self.weighted_calls.add(target)
        return True

    def _on_call_function(self, node):
        target = node.target
        passed = _passed_through(node)
        if passed is not None and passed in self.plan.alias:
            self.plan.alias[node] = self.plan.alias[passed]  # no layer: the same tensor
            return
        module = getattr(target, "__module__", None) or ""
        label = f"function {module}.{getattr(target, '__name__', target)}".replace(" .", " ")
        self._call(node, self.index.function(target), label)

    def _on_call_method(self, node):
        passed = _passed_through(node)
        if passed is not None and passed in self.plan.alias:
            self.plan.alias[node] = self.plan.alias[passed]
            return
        self._call(node, self.index.methods.get(node.target, []), f"method .{node.target}()")

    # ------------------------------------------------------------ calls
    def _call(self, node, matches, label):
        if not matches:
            self._unmapped(node, label)
            return
        read = _first_read(matches, node)
        if isinstance(read, NoMatch):
            self._unmapped(node, f"{label} {read}")
            return
        spec, call, params = read
        tensors = _tensors(node.args) + _tensors(tuple(node.kwargs.values()))
        inputs = tensors if call.inputs is None else call.inputs(node.args, node.kwargs)
        ports = spec.input_ports(params)
        if len(inputs) != len(ports):
            fewer = len(inputs) < len(ports)
            self._unmapped(node, f"{label} {'with a constant' if fewer else 'on several tensors'}")
            return
        helpers = self._helpers(node, [t for t in tensors if t not in inputs], inputs)
        if helpers is None:
            self._unmapped(node, f"{label} with settings computed from other layers")
            return
        if call.chained and self._fold(node, spec, params, inputs):
            return
        self.plan.drop_unmapped({helper.name for helper in helpers})
        self._add(Planned(node.name, spec.name, params, inputs), node)

    def _helpers(self, node, starts: list, inputs: list) -> set | None:
        """The nodes that compute a call's settings from its inputs (``y.shape[2:]``), or
        None when they use other layers or feed anything else."""
        found: set = set()
        todo = list(starts)
        while todo:
            helper = todo.pop()
            if helper in found or helper in inputs:
                continue
            if helper in self.plan.alias or helper.op not in ("call_function", "call_method"):
                return None
            found.add(helper)
            todo.extend(helper.all_input_nodes)
        if any(user not in found and user is not node for h in found for user in h.users):
            return None
        return found

    def _fold(self, node, spec, params, inputs) -> bool:
        """``(a + b) + c``, as Deepwire writes a three-input Add, is one node again."""
        first = inputs[0]
        previous = self.plan.alias.get(first)
        same = previous is not None and previous.type == spec.name and previous.module is None
        most = spec.param("num_inputs").upper
        if not same or len(first.users) != 1 or len(previous.inputs) >= most:
            return False
        rest = {k: v for k, v in previous.params.items() if k != "num_inputs"}
        if rest != {k: v for k, v in params.items() if k != "num_inputs"}:
            return False
        previous.inputs.extend(inputs[1:])
        previous.params["num_inputs"] = len(previous.inputs)
        self.plan.alias[node] = previous
        return True

    # ------------------------------------------------------------ modules
    def _module_node(self, node, module, spec, base, inputs, parts=()) -> Planned:
        return Planned(
            node.target.replace(".", "_"),
            spec.name,
            spec.read_module(module),
            inputs,
            None if _is_foreign(base) else base_view(module, base, parts),  # settings read
            node.target,
            None if type(module) is base else type(module).__name__,
        )

    def _plain_module(self, node, module, spec, base):
        inputs = [a for a in node.args if hasattr(a, "op")]
        extra = {k: v for k, v in node.kwargs.items() if v is not None}
        name = type(module).__name__
        if len(inputs) != len(node.args) or extra:
            self._unmapped(node, f"{name} called with extra arguments")
            return
        parts = self.parts.get(node.target)
        if parts is None:
            parts = composite_parts(module)
        if parts and parts[0].startswith(CHANNELS_LAST):
            self._channels_last(node, module, spec, base, inputs, int(parts[0].split(":")[1]))
            return
        planned = self._module_node(node, module, spec, base, inputs, parts)
        if not parts:
            self._add(planned, node)
            return
        self._add(planned, (node, 0))
        for number, part in enumerate(parts, start=1):
            child = module.get_submodule(part)
            child_spec, child_base = self.index.module_spec(type(child))
            target = f"{node.target}.{part}"
            if not self._first_use(target, child, node):
                return
            produces = node if number == len(parts) else (node, number)
            self._add(
                Planned(
                    target.replace(".", "_"),
                    child_spec.name,
                    child_spec.read_module(child),
                    [(node, number - 1)],
                    base_view(child, child_base),
                    target,
                    None if type(child) is child_base else type(child).__name__,
                ),
                produces,
            )

    def _channels_last(self, node, module, spec, base, inputs, rank: int):
        """Permute, the base layer, Permute back: a LayerNorm2d as the three steps it is."""
        name = node.target.replace(".", "_")
        to_last, to_first = [0, *range(2, rank), 1], [0, rank - 1, *range(1, rank - 1)]
        self._add(Planned(f"{name}_channels_last", "Permute", {"dims": to_last}, inputs), (node, 0))
        self._add(self._module_node(node, module, spec, base, [(node, 0)]), (node, 1))
        self._add(
            Planned(f"{name}_channels_first", "Permute", {"dims": to_first}, [(node, 1)]), node
        )

    def _recurrent(self, node, module, spec, base):
        users = list(node.users)
        if not users or any(not _is_getitem(u, 0) for u in users) or len(users) > 1:
            self._unmapped(node, f"{type(module).__name__} whose final states are used")
            return
        sequence = users[0]
        self.consumed.add(sequence)
        output, produces = "sequence", sequence
        last = list(sequence.users)
        if len(last) == 1 and _is_last_step(last[0]):
            output, produces = "last", last[0]
            self.consumed.add(last[0])
        planned = self._module_node(node, module, spec, base, [node.args[0]])
        planned.params["output"] = output
        self._add(planned, produces)

    def _attention(self, node, module, spec, base):
        args = node.args
        users = list(node.users)
        same = len(args) == 3 and args[0] is args[1] is args[2]
        if not same or len(users) != 1 or not _is_getitem(users[0], 0):
            self._unmapped(node, "MultiheadAttention other than self-attention attn(x, x, x)[0]")
            return
        self.consumed.add(users[0])
        self._add(self._module_node(node, module, spec, base, [args[0]]), users[0])

    def _positional(self, node, module, base) -> bool:
        """``x + self.pos(torch.arange(x.size(1)))`` is one PositionalEmbedding node."""
        import torch

        (positions,) = node.args[:1] or (None,)
        users = list(node.users)
        if getattr(positions, "target", None) is not torch.arange or len(users) != 1:
            return False
        add = users[0]
        if add.target is not operator.add or node not in add.args:
            return False
        other = add.args[1] if add.args[0] is node else add.args[0]
        steps = positions.args[0] if positions.args else None
        if not (
            hasattr(other, "op")
            and getattr(steps, "target", None) == "size"
            and steps.args[0] is other
        ):
            return False
        helpers = [positions, steps, *[v for v in positions.kwargs.values() if hasattr(v, "op")]]
        if any(len(h.users) != 1 for h in helpers):
            return False
        self.consumed.update([add, *helpers])
        self.plan.nodes = [p for p in self.plan.nodes if not _produced_by(self.plan, p, helpers)]
        self.plan.drop_unmapped({h.name for h in helpers})
        spec = CATALOGUE["PositionalEmbedding"]
        self._add(self._module_node(node, module, spec, base, [other]), add)
        return True


VIEWS = ("reshape", "view", "unsqueeze", "squeeze", "permute", "transpose", "flatten", "contiguous")


def _attribute(graph_module, dotted: str):
    value = graph_module
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def _node_name(node) -> str:
    return str(node.target).replace(".", "_")


def _is_view(node) -> bool:
    """A tensor method that only rearranges its tensor's values."""
    return node.op == "call_method" and node.target in VIEWS


def _is_mul(node) -> bool:
    import torch

    if node.op == "call_method":
        return node.target == "mul"
    return node.op == "call_function" and node.target in (operator.mul, torch.mul)


def _batch_of(size):
    """x for an fx node computing ``x.shape[0]`` or ``x.size(0)``, else None."""
    if not hasattr(size, "op"):
        return None
    if size.op == "call_method" and size.target == "size" and size.args[1:] in ((0,), ()):
        return size.args[0] if size.args[1:] == (0,) else None
    if size.op == "call_function" and size.target is operator.getitem and size.args[1] == 0:
        shape = size.args[0]
        is_shape = getattr(shape, "target", None) is getattr and shape.args[1:] == ("shape",)
        if is_shape or (getattr(shape, "target", None) == "size" and len(shape.args) == 1):
            return shape.args[0]
    return None


def _size_helpers(size, source) -> list:
    """The fx nodes between ``source`` and the batch size read from it."""
    helpers = [size]
    if size.op == "call_function" and size.args[0] is not source:
        helpers.append(size.args[0])
    return helpers


def _first_read(matches: list, node):
    """(spec, call, params) of the first match whose read accepts ``node``'s call, else
    a NoMatch with every reason."""
    reasons = []
    for spec, call in matches:
        try:
            return spec, call, call.read(node.args, node.kwargs)
        except NoMatch as reason:
            reasons.append(str(reason))
    return NoMatch(" or ".join(dict.fromkeys(reasons)))


def _passed_through(node):
    """The tensor a call returns unchanged (``torch.cat([x])``, as DenseNet's first
    layer of a block writes it; ``x.expand(-1, -1)``; ``x.contiguous()``), or None."""
    import torch

    if node.op == "call_method":
        sizes = node.args[1:]
        if len(sizes) == 1 and isinstance(sizes[0], list | tuple):
            sizes = tuple(sizes[0])
        if node.target == "expand" and sizes and all(s == -1 for s in sizes):
            return node.args[0]  # as the batch size folded into -1 leaves it
        if node.target == "contiguous" and len(node.args) == 1:
            return node.args[0]
        return None
    if node.target in (torch.cat, torch.concat) and len(node.args) >= 1:
        tensors = node.args[0]
        if isinstance(tensors, list | tuple) and len(tensors) == 1 and hasattr(tensors[0], "op"):
            return tensors[0]
    return None


def _tensors(values: tuple) -> list:
    """The fx nodes among a call's arguments, those inside lists included, in order."""
    found = []
    for value in values:
        if isinstance(value, list | tuple):
            found.extend(v for v in value if hasattr(v, "op"))
        elif hasattr(value, "op"):
            found.append(value)
    return found


def _produced_by(plan: Plan, planned: Planned, nodes) -> bool:
    return any(plan.alias.get(n) is planned for n in nodes)


def _is_getitem(node, index) -> bool:
    return node.op == "call_function" and node.target is operator.getitem and node.args[1] == index


def _is_last_step(node) -> bool:
    if node.op != "call_function" or node.target is not operator.getitem:
        return False
    index = node.args[1]
    if not isinstance(index, tuple) or len(index) not in (2, 3):
        return False
    whole = slice(None)
    return index[0] == whole and index[1] == -1 and (len(index) == 2 or index[2] == whole)


def plan_graph(graph_module, parts: dict[str, tuple[str, ...]] | None = None) -> Plan:
    """Map a traced GraphModule's nodes onto catalogue types (see the module docstring).

    Args:
        graph_module: the traced model.
        parts: for a subclass module (by its path), the child layers chained after
            its base layer, where ``engine.importer`` checked them on the model;
            others get ``composite_parts``.
    """
    return _Planner(graph_module, parts).run()
