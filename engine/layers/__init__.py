"""The layer catalogue: every layer type Deepwire knows, by torch.nn name.

Adding a layer type means adding one ``LayerSpec`` to a family module and listing the
module in ``_FAMILY_MODULES``; the palette, inspector, analysis, compilation, code
export and the catalogue-wide tests all read the catalogue.
"""

from importlib import import_module

from engine.errors import NetworkError
from engine.layers.spec import LayerSpec, Param, Shape

_FAMILY_MODULES = (
    "io",
    "dense",
    "shape",
    "conv",
    "pool",
    "norm",
    "activation",
    "activation_mobile",
    "recurrent",
    "attention",
    "merge",
    "tensor",
    "index",
    "learnable",
    "functional",
)

CATALOGUE: dict[str, LayerSpec] = {}
for _module_name in _FAMILY_MODULES:
    for _spec in import_module(f"engine.layers.{_module_name}").SPECS:
        if _spec.name in CATALOGUE:
            raise RuntimeError(f"layer type {_spec.name} is defined twice")
        CATALOGUE[_spec.name] = _spec


def get_spec(type_name: str) -> LayerSpec:
    """The LayerSpec of ``type_name``; raises NetworkError naming close matches."""
    try:
        return CATALOGUE[type_name]
    except KeyError:
        from difflib import get_close_matches

        close = get_close_matches(type_name, CATALOGUE, n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise NetworkError(f"unknown layer type {type_name!r}{hint}") from None


def families() -> dict[str, list[LayerSpec]]:
    """Layer types grouped by family, in catalogue order (for the palette)."""
    grouped: dict[str, list[LayerSpec]] = {}
    for spec in CATALOGUE.values():
        grouped.setdefault(spec.family, []).append(spec)
    return grouped


__all__ = ["CATALOGUE", "LayerSpec", "Param", "Shape", "families", "get_spec"]
