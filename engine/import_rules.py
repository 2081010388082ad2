"""How a traced PyTorch graph maps onto the layer catalogue: the rules of ``import_model``.

``plan_graph`` walks a torch.fx graph once and turns each module call or function into a
``Planned`` node of a catalogue type, or records it as unmappable, by name. Modules map
by class name (``torch.nn.Linear`` -> ``Linear``) and their parameters are read from the
module's attributes under the LayerSpec's names; sizes the catalogue infers
(``in_features``) are not copied, they are checked afterwards by rebuilding the module.
Functions map through ``FUNCTIONS`` (``torch.flatten`` -> ``Flatten``, ``operator.add``
-> ``Add``). A few layers are emitted by Deepwire as more than one graph node (an LSTM
and ``[0]``, a PositionalEmbedding's ``arange``); ``plan_graph`` folds those patterns
back into one node, so that ``deepwire code`` output imports as the network it came from.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

from engine.layers import CATALOGUE

RECURRENT = ("RNN", "LSTM", "GRU")
MAX_MERGE = 8


@dataclass
class Planned:
    """A node to create: its fx name, catalogue type, params and input fx nodes."""

    name: str
    type: str
    params: dict[str, Any]
    inputs: list = field(default_factory=list)
    module: Any = None  # the torch module it came from, to verify and copy weights
    target: str | None = None  # that module's path in the traced model


@dataclass
class Plan:
    """The result of ``plan_graph``."""

    nodes: list[Planned] = field(default_factory=list)
    alias: dict = field(default_factory=dict)  # fx node -> Planned that produces it
    outputs: list = field(default_factory=list)  # fx nodes returned by forward
    unmapped: list[str] = field(default_factory=list)


def _arg(args, kwargs, index, name, default):
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _activation(type_name, **extra):
    """A rule for an activation function: ``(type, reader of its params)``."""

    def read(args, kwargs):
        return {
            name: _arg(args, kwargs, index, name, default)
            for name, (index, default) in extra.items()
        }

    return type_name, read


def _flatten_rule(args, kwargs):
    return {
        "start_dim": _arg(args, kwargs, 1, "start_dim", 0),
        "end_dim": _arg(args, kwargs, 2, "end_dim", -1),
    }


def _function_rules() -> dict:
    import torch
    import torch.nn.functional as F

    rules = {
        torch.flatten: ("Flatten", _flatten_rule),
        torch.relu: _activation("ReLU"),
        F.relu: _activation("ReLU"),
        torch.sigmoid: _activation("Sigmoid"),
        F.sigmoid: _activation("Sigmoid"),
        torch.tanh: _activation("Tanh"),
        F.tanh: _activation("Tanh"),
        F.silu: _activation("SiLU"),
        F.gelu: _activation("GELU", approximate=(99, "none")),
        F.elu: _activation("ELU", alpha=(1, 1.0)),
        F.leaky_relu: _activation("LeakyReLU", negative_slope=(1, 0.01)),
        torch.softmax: _activation("Softmax", dim=(1, None)),
        F.softmax: _activation("Softmax", dim=(1, None)),
        torch.log_softmax: _activation("LogSoftmax", dim=(1, None)),
        F.log_softmax: _activation("LogSoftmax", dim=(1, None)),
        F.dropout: _activation("Dropout", p=(1, 0.5)),
    }
    return rules


_METHODS = {
    "flatten": (
        "Flatten",
        lambda a, k: {
            "start_dim": _arg(a, k, 1, "start_dim", 0),
            "end_dim": _arg(a, k, 2, "end_dim", -1),
        },
    ),
    "relu": _activation("ReLU"),
    "sigmoid": _activation("Sigmoid"),
    "tanh": _activation("Tanh"),
    "softmax": _activation("Softmax", dim=(1, None)),
    "log_softmax": _activation("LogSoftmax", dim=(1, None)),
}

# Parameters whose value a module keeps under another attribute.
_READERS = {
    ("MultiheadAttention", "bias"): lambda m: m.in_proj_bias is not None,
    ("TransformerEncoderLayer", "nhead"): lambda m: m.self_attn.num_heads,
    ("TransformerEncoderLayer", "dim_feedforward"): lambda m: m.linear1.out_features,
    ("TransformerEncoderLayer", "dropout"): lambda m: m.dropout.p,
    ("TransformerEncoderLayer", "activation"): lambda m: _activation_name(m.activation),
    ("PositionalEmbedding", "max_len"): lambda m: m.num_embeddings,
    ("LayerNorm", "normalized_dims"): lambda m: len(m.normalized_shape),
}


def _activation_name(function) -> str:
    name = getattr(function, "__name__", type(function).__name__).lower()
    return "gelu" if "gelu" in name else "relu" if "relu" in name else name


def read_params(type_name: str, module) -> dict[str, Any]:
    """The LayerSpec params of ``type_name`` read from a torch module's attributes.

    Parameters the module does not keep take their defaults; the rebuilt module is
    compared with the original afterwards, so a wrong guess is reported, not hidden.
    """
    spec = CATALOGUE[type_name]
    params = {}
    for param in spec.params:
        reader = _READERS.get((type_name, param.name))
        if reader is not None:
            value = reader(module)
        elif hasattr(module, param.name):
            value = getattr(module, param.name)
        else:
            continue
        params[param.name] = _normalize(param, value)
    stride = next((p for p in spec.params if p.name == "stride"), None)
    if (
        stride is not None
        and stride.default is None
        and params.get("stride") == params.get("kernel_size")
    ):
        params["stride"] = None  # torch stores the default stride as the kernel size
    return params


def _normalize(param, value):
    import torch

    if param.kind == "bool" and (value is None or isinstance(value, torch.Tensor)):
        return value is not None
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple) and param.kind == "int" and len(set(value)) == 1:
        return value[0]
    if isinstance(value, tuple) and param.kind.endswith("_or_tuple") and len(set(value)) == 1:
        return value[0]
    return value


class _Planner:
    """One walk over an fx graph; see ``plan_graph``."""

    def __init__(self, graph_module):
        self.gm = graph_module
        self.plan = Plan()
        self.consumed: set = set()
        self.weighted_calls: set[str] = set()  # modules with weights already used once
        self.functions = _function_rules()

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

    def _unmapped(self, node, what: str) -> None:
        self.plan.unmapped.append(f"{node.name} ({what})")

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
        self._unmapped(node, f"uses the tensor self.{node.target} directly")

    def _on_call_module(self, node):
        module = self.gm.get_submodule(node.target)
        cls = type(module)
        name = cls.__name__
        if not cls.__module__.startswith("torch.nn") or name not in CATALOGUE:
            self._unmapped(node, f"module {cls.__module__}.{name}")
            return
        if node.target in self.weighted_calls:
            self._unmapped(node, f"{name} called twice; Deepwire layers do not share weights")
            return
        if any(True for _ in module.parameters()):
            self.weighted_calls.add(node.target)
        if name == "Embedding" and self._positional(node, module):
            return
        if name in RECURRENT:
            self._recurrent(node, module)
        elif name == "MultiheadAttention":
            self._attention(node, module)
        else:
            self._plain_module(node, module, name)

    def _on_call_function(self, node):
        import torch

        target = node.target
        if target in (operator.add, torch.add):
            self._merge(node, "Add")
        elif target in (operator.mul, torch.mul):
            self._merge(node, "Multiply")
        elif target is torch.cat:
            self._concat(node)
        else:
            module = getattr(target, "__module__", None) or ""
            label = f"function {module}.{getattr(target, '__name__', target)}".replace(" .", " ")
            self._rule(node, self.functions.get(target), node.args, label)

    def _on_call_method(self, node):
        if node.target in ("reshape", "view"):
            self._reshape(node)
            return
        self._rule(node, _METHODS.get(node.target), node.args, f"method .{node.target}()")

    # ------------------------------------------------------------ rules
    def _rule(self, node, rule, args, label):
        if rule is None or rule[0] not in CATALOGUE:
            self._unmapped(node, label)
            return
        inputs = [a for a in args if hasattr(a, "op")]
        if len(inputs) != 1 or args[0] is not inputs[0]:
            self._unmapped(node, f"{label} on several tensors")
            return
        params = {k: v for k, v in rule[1](args, node.kwargs).items() if v is not None}
        self._add(Planned(node.name, rule[0], params, [args[0]]), node)

    def _plain_module(self, node, module, name):
        inputs = [a for a in node.args if hasattr(a, "op")]
        extra = {k: v for k, v in node.kwargs.items() if v is not None}
        if len(inputs) != len(node.args) or extra:
            self._unmapped(node, f"{name} called with extra arguments")
            return
        self._add(
            Planned(
                node.target.replace(".", "_"),
                name,
                read_params(name, module),
                inputs,
                module,
                node.target,
            ),
            node,
        )

    def _recurrent(self, node, module):
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
        params = read_params(type(module).__name__, module)
        params["output"] = output
        planned = Planned(
            node.target.replace(".", "_"),
            type(module).__name__,
            params,
            [node.args[0]],
            module,
            node.target,
        )
        self._add(planned, produces)

    def _attention(self, node, module):
        args = node.args
        users = list(node.users)
        same = len(args) == 3 and args[0] is args[1] is args[2]
        if not same or len(users) != 1 or not _is_getitem(users[0], 0):
            self._unmapped(node, "MultiheadAttention other than self-attention attn(x, x, x)[0]")
            return
        self.consumed.add(users[0])
        planned = Planned(
            node.target.replace(".", "_"),
            "MultiheadAttention",
            read_params("MultiheadAttention", module),
            [args[0]],
            module,
            node.target,
        )
        self._add(planned, users[0])

    def _positional(self, node, module) -> bool:
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
        self.plan.unmapped = [
            u for u in self.plan.unmapped if u.split(" ")[0] not in {h.name for h in helpers}
        ]
        planned = Planned(
            node.target.replace(".", "_"),
            "PositionalEmbedding",
            read_params("PositionalEmbedding", module),
            [other],
            module,
            node.target,
        )
        self._add(planned, add)
        return True

    def _merge(self, node, type_name):
        if type_name not in CATALOGUE:
            self._unmapped(node, f"operator {type_name.lower()}")
            return
        a, b = node.args[:2]
        if not (hasattr(a, "op") and hasattr(b, "op")):
            self._unmapped(node, f"{type_name.lower()} with a constant")
            return
        previous = self.plan.alias.get(a)
        if (
            previous is not None
            and previous.type == type_name
            and len(a.users) == 1
            and len(previous.inputs) < MAX_MERGE
            and previous.module is None
            and a.op == "call_function"
        ):
            previous.inputs.append(b)
            previous.params["num_inputs"] = len(previous.inputs)
            self.plan.alias[node] = previous
            return
        self._add(Planned(node.name, type_name, {"num_inputs": 2}, [a, b]), node)

    def _concat(self, node):
        tensors = node.args[0] if node.args else node.kwargs.get("tensors")
        dim = _arg(node.args, node.kwargs, 1, "dim", 0)
        if (
            "Concat" not in CATALOGUE
            or not isinstance(tensors, list | tuple)
            or not 2 <= len(tensors) <= MAX_MERGE
        ):
            self._unmapped(node, "torch.cat of 2 to 8 tensors")
            return
        self._add(
            Planned(node.name, "Concat", {"num_inputs": len(tensors), "dim": dim}, list(tensors)),
            node,
        )

    def _reshape(self, node):
        x, *sizes = node.args
        if len(sizes) == 1 and isinstance(sizes[0], list | tuple):
            sizes = list(sizes[0])
        ok = "Reshape" in CATALOGUE and len(sizes) >= 2 and sizes[0] == -1
        if not ok or not all(isinstance(s, int) for s in sizes):
            self._unmapped(
                node, f"method .{node.target}() not of the form x.{node.target}(-1, ...)"
            )
            return
        self._add(Planned(node.name, "Reshape", {"shape": list(sizes[1:])}, [x]), node)


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


def plan_graph(graph_module) -> Plan:
    """Map a traced GraphModule's nodes onto catalogue types (see the module docstring)."""
    return _Planner(graph_module).run()
