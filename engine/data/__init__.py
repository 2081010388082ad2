"""Datasets: built-in, synthetic and the user's own files; splits and transforms.

``load_dataset(section, base_dir)`` turns a project's ``dataset`` section into a
``Dataset`` (NumPy arrays split into training and validation, normalised on the
training part; for a file dataset too big for memory, samples read from disk when a
batch asks for them: ``stream``) that knows its sample shape, dtype, task and classes and suggests the
Input shape, last layer size and loss. Torch is not imported here.
"""

from engine.data.base import Dataset, Raw, Suggestion
from engine.data.registry import (
    COMMON_PARAMS,
    check_section,
    dataset_names,
    dataset_params,
    load_dataset,
)

__all__ = [
    "COMMON_PARAMS",
    "Dataset",
    "Raw",
    "Suggestion",
    "check_section",
    "dataset_names",
    "dataset_params",
    "load_dataset",
]
