"""Shape arithmetic in a traced model, folded into the numbers it computes.

Models read their input's sizes in ``forward``: ``B, N, C = x.shape`` then
``x.reshape(B, N, 3, C // 8)``, ``F.interpolate(x, size=skip.shape[2:])``, or
``torch._assert(H == self.img_size[0], ...)``. torch.fx records each of those reads as
graph nodes, which no layer stands for. With the example inputs known, they are
numbers: ``fold_shapes`` runs the model twice, with batches of two sizes, and puts each
size that does not change into its users as a constant. A size that follows the batch
becomes the ``-1`` of a reshape, view or expand (where it leads the sizes), which is how
Deepwire writes the batch. An assert that became constant goes. Only values computed
from sizes are folded, never from a tensor's values (``x.max().item()``).
"""

from __future__ import annotations

import operator
from typing import Any

SIZE_ATTRIBUTES = ("shape", "ndim")
SIZE_METHODS = ("size", "dim")
# The calls whose leading size argument may be the batch, written -1.
BATCH_FIRST = ("reshape", "view", "expand")


def reads_sizes(graph_module) -> bool:
    """Whether the traced model reads a tensor's sizes in ``forward``."""
    return any(_is_size_read(node) for node in graph_module.graph.nodes)


def fold_shapes(graph_module, examples: list, unmapped: set[str]) -> bool:
    """Fold the size arithmetic of ``graph_module`` (in place) on ``examples``, which
    have a batch of 2 or more; returns whether anything changed.

    Only the size reads that no layer took are folded (``unmapped``: fx node names),
    with what they compute: ``F.interpolate(x, size=y.shape[2:])`` stays an Interpolate
    to y's size, for inputs of any size.
    """
    import torch

    shape_nodes = _shape_nodes(graph_module.graph)
    chosen: set = set()
    for node in shape_nodes:
        if node.name in unmapped or any(n in chosen for n in node.all_input_nodes):
            chosen.add(node)
    shape_nodes = [node for node in shape_nodes if node in chosen]
    if not shape_nodes:
        return False
    grown = [torch.cat([e, e[:1]]) for e in examples]
    first = _record(graph_module, examples, shape_nodes)
    second = _record(graph_module, grown, shape_nodes)
    batch = (len(examples[0]), len(grown[0])) if examples else None
    changed = _sizes_of_a_tensor(graph_module.graph, chosen, first, second)
    for node in shape_nodes:
        if node not in first or node not in second:
            continue
        value, other = _plain(first[node]), _plain(second[node])
        if value is None or other is None:
            continue
        if value == other:
            changed |= _replace(node, value)
        elif (value, other) == batch:
            changed |= _batch_to_minus_one(node)
    changed |= _drop_constant_asserts(graph_module.graph)
    if changed:
        graph_module.graph.eliminate_dead_code()
        graph_module.recompile()
    return changed


def _sizes_of_a_tensor(graph, chosen: set, first: dict, second: dict) -> bool:
    """``F.interpolate(x, size=(h, w))`` where (h, w) are the height and width of one
    tensor y (segmentation-models-pytorch reads them into a list first) becomes
    ``size=y.shape[2:]``: an Interpolate to y's size, for inputs of any size."""
    import torch.nn.functional as F

    changed = False
    for node in list(graph.nodes):
        if node.op != "call_function" or node.target is not F.interpolate:
            continue
        in_kwargs = "size" in node.kwargs
        size = node.kwargs["size"] if in_kwargs else (node.args[1:2] or [None])[0]
        parts = tuple(size) if isinstance(size, tuple | list) else (size,)
        if not all(hasattr(p, "op") and p in chosen and p in first for p in parts):
            continue
        source = _only_source(parts, chosen)
        if source is None:
            continue
        reads = [
            n for n in chosen
            if n.target is getattr and n.args == (source, "shape") and n in first and n in second
        ]  # fmt: skip
        wanted = [tuple(values[p] for p in parts) for values in (first, second)]
        if not any(
            tuple(first[r])[2:] == wanted[0] and tuple(second[r])[2:] == wanted[1] for r in reads
        ):
            continue
        with graph.inserting_before(node):
            shape = graph.call_function(getattr, (source, "shape"))
            spatial = graph.call_function(operator.getitem, (shape, slice(2, None)))
        shape.meta, spatial.meta = dict(node.meta), dict(node.meta)  # for blocks
        if in_kwargs:
            node.kwargs = {**node.kwargs, "size": spatial}
        else:
            node.args = (node.args[0], spatial, *node.args[2:])
        changed = True
    return changed


def _only_source(parts: tuple, chosen: set):
    """The one tensor whose size reads compute ``parts``, or None."""
    sources, todo, seen = set(), list(parts), set()
    while todo:
        node = todo.pop()
        if node in seen or node not in chosen:
            continue
        seen.add(node)
        if _is_size_read(node):
            sources.add(node.args[0])
        else:
            todo.extend(node.all_input_nodes)
    return sources.pop() if len(sources) == 1 else None


def _is_size_read(node) -> bool:
    if node.op == "call_method":
        return node.target in SIZE_METHODS
    return (
        node.op == "call_function"
        and node.target is getattr
        and len(node.args) == 2
        and node.args[1] in SIZE_ATTRIBUTES
    )


def _shape_nodes(graph) -> list:
    """The nodes whose value comes from sizes alone, in graph order."""
    found: set = set()
    ordered = []
    for node in graph.nodes:
        if node.op not in ("call_function", "call_method"):
            continue
        if _is_size_read(node):
            if not _only_sized(node.args[0]):
                found.add(node)
                ordered.append(node)
            continue
        inputs = node.all_input_nodes
        if inputs and all(n in found for n in inputs) and not _makes_tensor(node):
            found.add(node)
            ordered.append(node)
    return ordered


def _only_sized(tensor) -> bool:
    """An input whose sizes alone are used (``F.interpolate(x, size=y.shape[2:])``): its
    sizes stay reads, so that it stays an input of the imported network."""
    return tensor.op == "placeholder" and all(_is_size_read(user) for user in tensor.users)


def _makes_tensor(node) -> bool:
    """torch functions that turn sizes into tensors (``torch.arange(n)``) end the chain."""
    target = node.target
    module = getattr(target, "__module__", "") or ""
    return node.op == "call_function" and module.startswith("torch")


def _record(graph_module, examples: list, nodes: list) -> dict:
    import torch
    import torch.fx

    wanted = set(nodes)
    values: dict = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            result = super().run_node(node)
            if node in wanted:
                values[node] = result
            return result

    was_training = graph_module.training
    graph_module.eval()
    try:
        with torch.no_grad():
            Recorder(graph_module).run(*examples)
    except Exception:
        return {}
    finally:
        graph_module.train(was_training)
    return values


def _plain(value) -> Any:
    """An int, bool or tuple of ints as plain Python, else None (a tensor, a float)."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, tuple | list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    return None


def _replace(node, value) -> bool:
    import torch
    import torch.fx

    changed = False
    for user in list(node.users):
        if user.target is torch.arange:
            continue  # x + pos(torch.arange(x.size(1))) is a PositionalEmbedding as written
        changed = True
        user.args = torch.fx.node.map_arg(user.args, lambda n: value if n is node else n)
        user.kwargs = torch.fx.node.map_arg(user.kwargs, lambda n: value if n is node else n)
    return changed


def _batch_to_minus_one(node) -> bool:
    changed = False
    for user in list(node.users):
        if user.op != "call_method" or user.target not in BATCH_FIRST or len(user.args) < 2:
            continue
        sizes = user.args[1]
        if sizes is node:
            user.args = (user.args[0], -1, *user.args[2:])
            changed = True
        elif isinstance(sizes, tuple | list) and sizes and sizes[0] is node:
            user.args = (user.args[0], (-1, *sizes[1:]), *user.args[2:])
            changed = True
    return changed


def _drop_constant_asserts(graph) -> bool:
    import torch

    changed = False
    for node in list(graph.nodes):
        is_assert = node.op == "call_function" and node.target is torch._assert
        if is_assert and not node.all_input_nodes and not node.users:
            graph.erase_node(node)
            changed = True
    return changed
