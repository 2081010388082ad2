"""Indexing along one dimension: Select (``x[:, 0]``) and Slice (``x[:, 1:5]``).

``dim`` counts the batch, as in torch, and can never be the batch itself. Select takes
one position and drops the dimension, as ViT takes its class token out of the sequence;
Slice keeps a range of positions. Both are emitted as the indexing a person writes,
and ``deepwire import`` reads ``x[:, 0]`` and ``x[..., :1]`` back: any ``x[...]`` that
indexes one dimension after the batch, with ``:`` everywhere else.
"""

import operator

from engine.errors import ShapeError
from engine.layers.rules import normalize_dim
from engine.layers.spec import Call, Example, LayerSpec, NoMatch, Param, argument

_DIM = Param("dim", "int", 1, "The dimension to index, counting the batch (1 = first after it).")


def _index(params, inputs):
    (shape,) = inputs
    return normalize_dim(params["dim"], len(shape) + 1) - 1, shape


def _select_shape(params, inputs):
    axis, shape = _index(params, inputs)
    size, index = shape[axis], params["index"]
    if not -size <= index < size:
        raise ShapeError(f"takes position {index}, but dim {params['dim']} has only {size}")
    return (*shape[:axis], *shape[axis + 1 :])


def _slice_range(params, inputs):
    axis, shape = _index(params, inputs)
    positions = range(shape[axis])[slice(params["start"], params["end"], params["step"])]
    if not positions:
        raise ShapeError(
            f"keeps no position of dim {params['dim']} (size {shape[axis]}) from "
            f"{params['start']} to {params['end']}"
        )
    return axis, shape, len(positions)


def _slice_shape(params, inputs):
    axis, shape, kept = _slice_range(params, inputs)
    return (*shape[:axis], kept, *shape[axis + 1 :])


def _key(params, inputs, item):
    """``(slice(None), ..., item)`` reaching the dim, from the front or, if negative, the back."""
    dim = params["dim"]
    if dim < 0:
        return (Ellipsis, item, *[slice(None)] * (-dim - 1))
    return (*[slice(None)] * dim, item)


def _select_emit(graph, target, args, params, inputs):
    return graph.call_function(operator.getitem, (args[0], _key(params, inputs, params["index"])))


def _slice_emit(graph, target, args, params, inputs):
    part = slice(params["start"], params["end"], params["step"])
    return graph.call_function(operator.getitem, (args[0], _key(params, inputs, part)))


def _indexed(args) -> tuple[int, object]:
    """(dim, entry) of ``x[key]`` whose key indexes one dimension after the batch."""
    key = args[1] if len(args) > 1 else None
    key = key if isinstance(key, tuple) else (key,)
    whole = slice(None)
    if Ellipsis in key:
        at = key.index(Ellipsis)
        before, after = key[:at], key[at + 1 :]
        if Ellipsis in after or any(k != whole for k in before) or not after:
            raise NoMatch("with an index Deepwire cannot express")
        if any(k != whole for k in after[1:]):
            raise NoMatch("indexing more than one dimension")
        return -len(after), after[0]
    chosen = [i for i, k in enumerate(key) if k != whole]
    if len(chosen) != 1 or chosen[0] == 0:
        raise NoMatch("indexing other than one dimension after the batch")
    return chosen[0], key[chosen[0]]


def _is_int(value) -> bool:
    return type(value) is int


def _read_select_item(args, kwargs):
    dim, entry = _indexed(args)
    if not _is_int(entry):
        raise NoMatch("with a range")
    return {"dim": dim, "index": entry}


def _read_slice_item(args, kwargs):
    dim, entry = _indexed(args)
    if not isinstance(entry, slice):
        raise NoMatch("with a position")
    parts = (entry.start, entry.stop, entry.step)
    if not all(p is None or _is_int(p) for p in parts) or (entry.step or 1) < 1:
        raise NoMatch("with a range that is not plain numbers")
    return {"dim": dim, "start": entry.start or 0, "end": entry.stop, "step": entry.step or 1}


def _read_select(args, kwargs):
    """``torch.select(x, 1, 0)`` and ``x.select(1, 0)``."""
    dim, index = argument(args, kwargs, 1, "dim"), argument(args, kwargs, 2, "index")
    if not (_is_int(dim) and _is_int(index)):
        raise NoMatch("with a position that is not a plain number")
    return {"dim": dim, "index": index}


_GETITEM = ("operator.getitem",)

SPECS = [
    LayerSpec(
        name="Select",
        family="Shape",
        help=(
            "Takes one position of a dimension and drops that dimension: x[:, 0] takes "
            "the first step of a sequence (steps, features) as a (features,) vector, as "
            "a ViT takes its class token. -1 is the last position."
        ),
        params=(_DIM, Param("index", "int", 0, "The position to take (-1 = the last).")),
        infer=_select_shape,
        emit=_select_emit,
        calls=(
            Call(_GETITEM, read=_read_select_item, shared=True),
            Call(("torch.select",), ("select",), _read_select),
        ),
        summary=lambda p: f"dim {p['dim']}, index {p['index']}",
        input_dtype="any",
        examples=(
            Example(((5, 4),)),
            Example(((3, 4, 5),), {"dim": -1, "index": -1}),
            Example(((3, 4, 5),), {"dim": 2, "index": 2}),
        ),
    ),
    LayerSpec(
        name="Slice",
        family="Shape",
        help=(
            "Keeps positions start to end (end excluded) of a dimension, every step-th: "
            "x[:, 1:] drops a ViT's class token and keeps the patches. An empty end goes "
            "to the last position; negative numbers count from the end."
        ),
        params=(
            _DIM,
            Param("start", "int", 0, "The first position kept (-1 = the last)."),
            Param("end", "int", None, "Where to stop (not kept); empty: the end.", optional=True),
            Param("step", "int", 1, "Keep every step-th position.", minimum=1),
        ),
        infer=_slice_shape,
        emit=_slice_emit,
        calls=(Call(_GETITEM, read=_read_slice_item, shared=True),),
        summary=lambda p: (
            f"dim {p['dim']}, {p['start']}:{'' if p['end'] is None else p['end']}"
            + (f":{p['step']}" if p["step"] != 1 else "")
        ),
        input_dtype="any",
        examples=(
            Example(((5, 4),), {"start": 1}),
            Example(((3, 8, 5),), {"dim": 2, "start": 2, "end": -1, "step": 2}),
            Example(((3, 4, 5),), {"dim": -1, "end": 1}),
        ),
    ),
]
