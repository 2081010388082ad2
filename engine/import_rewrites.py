"""Rewrites of a traced graph into the batch-first steps Deepwire's layers take.

timm's attention splits its fused projection with the batch out of first place:
``qkv.reshape(B, N, 3, H, D).permute(2, 0, 3, 1, 4).unbind(0)``. Every Deepwire layer
keeps the batch first, so ``batch_first`` rewrites such a split into the same values
taken without moving the batch: ``unbind(t, d)[i]`` is ``t.select(d, i)``, and a select
(or ``t[i]``) of a permuted tensor is a select of the tensor, then the rest of the
permutation: ``q = qkv.reshape(B, N, 3, H, D).select(2, 0).permute(0, 2, 1, 3)``.
"""

from __future__ import annotations

import operator


def batch_first(graph_module) -> bool:
    """Rewrite ``graph_module`` in place; returns whether anything changed."""
    graph = graph_module.graph
    changed = False
    for node in list(graph.nodes):
        changed |= _unbind_to_selects(graph, node)
    for node in list(graph.nodes):
        changed |= _select_before_permute(graph, node)
    if changed:
        graph.eliminate_dead_code()
        graph_module.recompile()
    return changed


def _unbind_to_selects(graph, node) -> bool:
    """``t.unbind(d)[i]`` -> ``t.select(d, i)``, when only such items are used."""
    import torch

    is_method = node.op == "call_method" and node.target == "unbind"
    is_function = node.op == "call_function" and node.target is torch.unbind
    if not (is_method or is_function) or not node.args:
        return False
    dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
    users = list(node.users)
    if type(dim) is not int or not users or not all(_item(user) is not None for user in users):
        return False
    for user in users:
        with graph.inserting_before(user):
            select = graph.call_method("select", (node.args[0], dim, _item(user)))
        select.meta = dict(user.meta)  # the module it is in, for blocks
        user.replace_all_uses_with(select)
        graph.erase_node(user)
    return True


def _select_before_permute(graph, node) -> bool:
    """``t.permute(p).select(d, i)`` (or ``t.permute(p)[i]``) -> ``t.select(p[d], i)``
    permuted by what is left of ``p``, when that keeps the batch first."""
    taken = _selected(node)
    if taken is None:
        return False
    source, dim, index = taken
    dims = _permutation(source)
    if dims is None or not -len(dims) <= dim < len(dims):
        return False
    axis = dims[dim]
    rest = [d - (d > axis) for position, d in enumerate(dims) if position != dim % len(dims)]
    if not rest or rest[0] != 0:
        return False
    with graph.inserting_before(node):
        new = graph.call_method("select", (source.args[0], axis, index))
        new.meta = dict(node.meta)  # the module it is in, for blocks
        if rest != sorted(rest):
            new = graph.call_method("permute", (new, *rest))
            new.meta = dict(node.meta)
    node.replace_all_uses_with(new)
    graph.erase_node(node)
    return True


def _item(node):
    """i for ``x[i]`` with a plain int i, else None."""
    if node.op == "call_function" and node.target is operator.getitem and len(node.args) == 2:
        index = node.args[1]
        return index if type(index) is int else None
    return None


def _selected(node):
    """(tensor, dim, index) for ``x.select(dim, index)`` or ``x[index]``, else None."""
    if node.op == "call_method" and node.target == "select" and len(node.args) == 3:
        source, dim, index = node.args
        if type(dim) is int and type(index) is int and hasattr(source, "op"):
            return source, dim, index
        return None
    index = _item(node)
    if index is not None and hasattr(node.args[0], "op"):
        return node.args[0], 0, index
    return None


def _permutation(node):
    """The dims of ``t.permute(...)`` as non-negative ints, else None."""
    if node.op != "call_method" or node.target != "permute":
        return None
    dims = node.args[1:]
    if len(dims) == 1 and isinstance(dims[0], list | tuple):
        dims = tuple(dims[0])
    if not dims or not all(type(d) is int for d in dims):
        return None
    rank = len(dims)
    return [d % rank for d in dims]
