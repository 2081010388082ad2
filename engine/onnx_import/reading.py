"""Reading an ONNX file safely: the model, its weights files and its inputs' shapes.

A file that is not ONNX, is cut short, uses an opset the installed ``onnx`` cannot read
or fails onnx's checker is refused in one sentence. Weights stored beside the model
(``model.onnx.data``) are read only from the model's own folder: a location that
climbs out of it (``../../secret``) is refused before anything is opened.

Shapes leave out the batch, as everywhere in Deepwire. The batch is the graph's own
when it is fixed, else 2; other sizes come from the graph or from ``--input-shape``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.import_report import shorten
from engine.importer import ImportModelError
from engine.weights import first_line

OLDEST_OPSET = 7  # opsets before 7 had other broadcasting rules
DEFAULT_BATCH = 2
_DTYPES = {1: "float32", 7: "int64"}  # onnx.TensorProto.FLOAT, INT64


@dataclass
class GraphInput:
    """One input of the graph: its name, the shape of one sample, dtype and batch."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    batch: int


def read_model(path: str | Path):
    """The checked ``onnx.ModelProto`` in ``path``, with its external weights loaded.

    Raises:
        ImportModelError: no such file, not ONNX, an opset Deepwire cannot read, an
            invalid model or weights stored outside the model's folder.
    """
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if not path.is_file():
        raise ImportModelError(f"{path}: no such file")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, OSError, ValueError) as error:
        raise ImportModelError(
            f"{path.name}: not an ONNX model, or a damaged one ({first_line(error)})"
        ) from None
    if not model.HasField("graph") or model.ir_version == 0:
        raise ImportModelError(f"{path.name}: not an ONNX model (it holds no graph)")
    check_opset(model, path.name)
    _load_external_data(model, path)
    try:  # from the file: checking a ModelProto would copy it whole
        onnx.checker.check_model(str(path))
    except (onnx.checker.ValidationError, ValueError) as error:
        raise ImportModelError(
            f"{path.name}: not a valid ONNX model ({first_line(error)})"
        ) from None
    return model


def opset(model) -> int:
    """The version of the standard ONNX operator set the model uses (0 if none)."""
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return max(versions, default=0)


def check_opset(model, label: str) -> None:
    """Refuse an opset the installed onnx package cannot read, or one too old to map."""
    import onnx

    version, newest = opset(model), onnx.defs.onnx_opset_version()
    if version == 0:
        raise ImportModelError(f"{label}: does not say which ONNX opset it uses")
    if version > newest:
        raise ImportModelError(
            f"{label}: uses ONNX opset {version}, newer than Deepwire can read (up to "
            f"{newest}); export it again with opset {newest} or lower"
        )
    if version < OLDEST_OPSET:
        raise ImportModelError(
            f"{label}: uses ONNX opset {version}; Deepwire reads opset {OLDEST_OPSET} or "
            "newer (convert it with onnx.version_converter)"
        )


def _load_external_data(model, path: Path) -> None:
    """Read weights kept in files beside the model, from the model's folder only."""
    from onnx.external_data_helper import (
        ExternalDataInfo,
        load_external_data_for_model,
        uses_external_data,
    )

    folder = path.parent.resolve()
    tensors = [t for t in model.graph.initializer if uses_external_data(t)]
    for tensor in tensors:
        location = ExternalDataInfo(tensor).location
        target = (folder / location).resolve()
        if Path(location).is_absolute() or not target.is_relative_to(folder):
            raise ImportModelError(
                f"{path.name}: its weights are said to be in {location[:80]!r}, outside the "
                "model's folder; Deepwire reads weights only from beside the model"
            )
        if not target.is_file():
            raise ImportModelError(
                f"{path.name}: its weights file {location[:80]!r} is missing; keep it beside "
                "the model"
            )
    if tensors:
        try:
            load_external_data_for_model(model, str(folder))
        except Exception as error:  # a damaged weights file fails in many ways
            raise ImportModelError(
                f"{path.name}: cannot read its weights file ({first_line(error)})"
            ) from None


def graph_inputs(model, given, label: str) -> list[GraphInput]:
    """The graph's inputs (initializers excluded), their shapes checked against ``given``.

    Args:
        model: the ONNX model.
        given: shapes without the batch, a list in input order or a dict by name, or
            None to take them from the graph.
        label: the file's name, for messages.
    """
    weights = {t.name for t in model.graph.initializer}
    values = [v for v in model.graph.input if v.name not in weights]
    if not values:
        raise ImportModelError(f"{label}: the graph has no inputs")
    shapes = _given_by_input(values, given)
    return [_graph_input(value, shapes.get(value.name), label) for value in values]


def _given_by_input(values, given) -> dict:
    names = [v.name for v in values]
    if given is None:
        return {}
    if isinstance(given, Mapping):
        unknown = [n for n in given if n not in names]
        if unknown:
            raise ImportModelError(
                f"--input-shape names {shorten(unknown[0])!r}, but the model's inputs are "
                + ", ".join(shorten(n) for n in names[:10])
            )
        return dict(given)
    given = list(given)
    if len(given) != len(names):
        raise ImportModelError(
            f"the model takes {len(names)} input(s) ("
            + ", ".join(shorten(n) for n in names[:10])
            + f") but {len(given)} shape(s) were given"
        )
    return dict(zip(names, given))


def _graph_input(value, given: Sequence[int] | None, label: str) -> GraphInput:
    tensor = value.type.tensor_type
    if not value.type.HasField("tensor_type") or tensor.elem_type not in _DTYPES:
        raise ImportModelError(
            f"{label}: input {shorten(value.name)!r} is not a float32 or int64 tensor, the "
            "inputs a Deepwire network takes"
        )
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    if tensor.HasField("shape") and len(dims) < 2:
        raise ImportModelError(
            f"{label}: input {shorten(value.name)!r} has no size besides the batch; a "
            "Deepwire input is a batch of samples, such as (batch, features)"
        )
    batch = dims[0] if dims and dims[0] else DEFAULT_BATCH
    sample = dims[1:] if tensor.HasField("shape") else None
    return GraphInput(
        value.name, _sample_shape(value.name, sample, given), _DTYPES[tensor.elem_type], batch
    )


def _sample_shape(name: str, sample: list | None, given) -> tuple[int, ...]:
    if given is not None:
        given = tuple(int(s) for s in given)
        if sample is not None and (
            len(sample) != len(given) or any(s and s != g for s, g in zip(sample, given))
        ):
            fixed = ", ".join(str(s) if s else "?" for s in sample)
            raise ImportModelError(
                f"input {shorten(name)!r} has the shape ({fixed}) in the file, which "
                f"--input-shape {','.join(map(str, given))} does not fit"
            )
        return given
    if sample is None or not sample or not all(sample):
        raise ImportModelError(
            f"the size of one sample of input {shorten(name)!r} is not fixed in the file; give "
            "it without the batch, e.g. --input-shape 3,224,224"
        )
    return tuple(sample)


def fix_input_shapes(model, inputs: list[GraphInput]) -> None:
    """Write each input's batch and sample sizes into the graph, for shape inference."""
    by_name = {i.name: i for i in inputs}
    for value in model.graph.input:
        if value.name not in by_name:
            continue
        wanted = (by_name[value.name].batch, *by_name[value.name].shape)
        shape = value.type.tensor_type.shape
        del shape.dim[:]
        for size in wanted:
            shape.dim.add().dim_value = size
