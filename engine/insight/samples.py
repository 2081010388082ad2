"""The sample to look inside the network with: one from the project's data, or made up.

``dataset_sample`` gives the network's Input the ``index``-th sample of the validation
(or training) part, exactly as training feeds it (split and normalised by
``engine.data``); ``example_sample`` makes one of the right shape and dtype for a
network with no data yet (random weights on random numbers: what the shapes mean).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import torch

    from engine.data.base import Dataset
    from engine.network import Network
    from engine.project import Project

PARTS = ("validation", "train")


def part_samples(dataset: Dataset, part: str) -> tuple[np.ndarray, np.ndarray]:
    """The samples and targets of ``part`` (``validation`` or ``train``) of ``dataset``.

    Raises:
        DataError: ``part`` is neither.
    """
    if part == "validation":
        return dataset.x_val, dataset.y_val
    if part == "train":
        return dataset.x_train, dataset.y_train
    raise DataError(f"the part must be validation or train, not {part!r}")


def check_index(index: int, count: int, part: str) -> None:
    """Raise DataError unless ``index`` picks one of ``count`` samples of ``part``."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        if count == 0:
            raise DataError(f"the {part} part has no samples")
        raise DataError(
            f"there is no sample {index} in the {part} part: it has {count} samples "
            f"(0 to {count - 1})"
        )


def dataset_sample(
    project: Project,
    index: int,
    part: str = "validation",
    *,
    network: Network | None = None,
    dataset: Dataset | None = None,
    base_dir=None,
) -> dict[str, torch.Tensor]:
    """The ``index``-th sample of ``part`` of the project's data, as the network's inputs.

    Args:
        project: the project whose ``dataset`` section is read.
        index: which sample, from 0.
        part: ``validation`` or ``train``.
        network: the network to feed (default: the project's model).
        dataset: the project's data already loaded (``engine.data.load_dataset``),
            so that several samples need one load.
        base_dir: the folder relative data paths start from (the project's folder).

    Returns:
        ``{Input id: tensor}`` for the network's one Input, shaped like it, without
        the batch dimension.

    Raises:
        DataError: the project has no data, the part or index does not exist, or the
            network does not take one of its samples.
    """
    import torch

    network = network if network is not None else project.network
    if dataset is None:
        if project.dataset is None:
            raise DataError('the project has no "dataset" section to take a sample from')
        from engine.data import load_dataset

        dataset = load_dataset(project.dataset, base_dir)
    samples, _ = part_samples(dataset, part)
    check_index(index, len(samples), part)
    node_id, shape, dtype = _one_input(network)
    dataset.check_input(shape, _data_dtype(dtype))
    value = torch.as_tensor(samples[index]).reshape(shape)
    return {node_id: value.long() if dtype == "long" else value.float()}


def takes_data(network: Network, dataset: Dataset) -> bool:
    """Whether the network has one Input in use and it takes ``dataset``'s samples (a
    GAN's generator takes noise instead)."""
    from engine.compile import input_specs

    specs = input_specs(network)
    if len(specs) != 1:
        return False
    _, shape, dtype = specs[0]
    return not dataset.info().input_problem(shape, _data_dtype(dtype))


def example_sample(network: Network, seed: int = 0) -> dict[str, torch.Tensor]:
    """A made-up sample for every Input of ``network`` (normal numbers from ``seed``;
    token ids 0), without the batch dimension."""
    from engine.analysis import analyze
    from engine.compile import example_inputs

    analysis = analyze(network)
    specs = [
        (node.id, analysis.shapes[node.id], analysis.dtypes[node.id])
        for node in network.nodes
        if node.spec.role == "input" and node.id in analysis.shapes
    ]
    values = example_inputs(specs, batch=1, seed=seed)
    return {node_id: value[0] for (node_id, _, _), value in zip(specs, values)}


def _one_input(network: Network) -> tuple[str, tuple, str]:
    """``(id, shape, dtype)`` of the network's one Input that reaches an Output."""
    from engine.compile import input_specs

    specs = input_specs(network)
    if len(specs) != 1:
        raise DataError(
            f"the network {network.name!r} has {len(specs)} Inputs in use; a sample of the "
            "data fits a network with one"
        )
    return specs[0]


def _data_dtype(dtype: str) -> str:
    """The dataset's name for an Input's dtype (``long`` -> ``int64``)."""
    return "int64" if dtype == "long" else "float32"
