"""The names of Deepwire's own module classes, without importing torch.

``engine.layers.modules`` defines them (with torch); code export and the catalogue
need only their names, and the analysis of a network never imports torch.
"""

OWN_MODULES = ("Scale", "LearnedTensor", "ScaledDotProductAttention", "DropPath")


def constructor(name: str) -> str:
    """How generated code calls the module class ``name``: ``Scale`` or ``torch.nn.Linear``."""
    return name if name in OWN_MODULES else f"torch.nn.{name}"
