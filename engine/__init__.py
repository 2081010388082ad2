"""Deepwire's engine: everything that is not a window.

The network model, the layer catalogue, analysis, compilation to PyTorch, datasets,
training, export, the project file and the command line. It never imports Qt, so it
runs headless, on servers and under torchrun, and it is the public Python API::

    from engine import project, analyze, compile_network
    proj = project.load("resources/examples/digits_mlp.dwire")
    print(analyze(proj.network).total_params)
    module = compile_network(proj.network)
"""

from engine.analysis import Analysis, Diagnostic, analyze
from engine.compile import compile_network
from engine.errors import (
    CompileError,
    DeepwireError,
    NetworkError,
    ParamError,
    ProjectError,
    ShapeError,
)
from engine.network import Network, Node, Wire

__all__ = [
    "Analysis",
    "CompileError",
    "DeepwireError",
    "Diagnostic",
    "Network",
    "NetworkError",
    "Node",
    "ParamError",
    "ProjectError",
    "ShapeError",
    "Wire",
    "analyze",
    "compile_network",
]
