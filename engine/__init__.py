"""Deepwire's engine: everything that is not a window.

The network model, the layer catalogue, analysis, compilation to PyTorch, datasets,
training, export, the project file and the command line. It never imports Qt, so it
runs headless, on servers and under torchrun, and it is the public Python API::

    from engine import project, analyze, compile_network
    proj = project.load("resources/examples/digits_mlp.dwire")
    print(analyze(proj.network).total_params)
    module = compile_network(proj.network)
"""

from importlib import import_module

# Names of the public API and their modules, imported on first use (PEP 562): the
# command line and the app start without loading networkx and the catalogue until they
# need them, and Ctrl-C during that start finds the entry point's handler in place.
_EXPORTS = {
    "Analysis": "engine.analysis",
    "Diagnostic": "engine.analysis",
    "analyze": "engine.analysis",
    "compile_network": "engine.compile",
    "CompileError": "engine.errors",
    "DeepwireError": "engine.errors",
    "NetworkError": "engine.errors",
    "ParamError": "engine.errors",
    "ProjectError": "engine.errors",
    "ShapeError": "engine.errors",
    "Network": "engine.network",
    "Node": "engine.network",
    "Wire": "engine.network",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
