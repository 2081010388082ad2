"""What every export starts from: the compiled network with its weights, and example inputs.

Without a weights file the network gets fresh initial weights drawn from a fixed seed, so
two exports of the same network are identical. The global random state is left as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.analysis import analyze
from engine.bounds import INT_MAX
from engine.compile import compile_network, example_inputs, input_specs, output_ids
from engine.errors import DeepwireError
from engine.network import Network
from engine.weights import fitting_weights

if TYPE_CHECKING:
    import torch

DEFAULT_SEED = 0
EXAMPLE_BATCH = 2  # torch.export specialises sizes 0 and 1, so trace with 2


class ExportError(DeepwireError):
    """The network could not be exported in the requested format."""


@dataclass
class Prepared:
    """A network ready to export.

    Attributes:
        module: the compiled GraphModule, in eval mode, with its weights.
        inputs: ``(id, shape, dtype)`` of each Input the forward takes, in order.
        outputs: ids of the Output nodes, in the order the forward returns them.
        fresh: True when no weights were given and the seeded initial ones are used.
        seed: the seed of the fresh weights.
    """

    module: torch.nn.Module
    inputs: list[tuple[str, tuple, str]]
    outputs: list[str]
    fresh: bool
    seed: int = DEFAULT_SEED
    notes: list[str] = field(default_factory=list)

    def example_inputs(self, batch: int = EXAMPLE_BATCH, seed: int = 0) -> tuple:
        """Random inputs of the right shapes and dtypes (token ids are 0)."""
        return example_inputs(self.inputs, batch, seed)

    def dynamic_batch(self) -> dict:
        """``dynamic_shapes`` for torch.export / torch.onnx: dimension 0 of every input."""
        import torch

        batch = torch.export.Dim("batch", min=1)
        return {node_id: {0: batch} for node_id, _, _ in self.inputs}


def prepare(
    network: Network,
    weights: str | os.PathLike | dict | None = None,
    seed: int = DEFAULT_SEED,
    source: str | None = None,
) -> Prepared:
    """Compile ``network`` and give it ``weights`` (a file or state_dict) or seeded ones.

    ``source`` names a state_dict in messages (the file it was read from).

    Raises:
        ExportError: ``seed`` is not a whole number from 0 to INT_MAX.
        CompileError: the network has errors.
        WeightsError: the weights do not fit (nothing is exported then).
    """
    import torch

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= INT_MAX:
        raise ExportError(f"the seed must be a whole number from 0 to {INT_MAX:,}, not {seed}")

    analysis = analyze(network)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = compile_network(network, analysis)
    if weights is not None:
        module.load_state_dict(fitting_weights(module, weights, source), strict=True)
    module.eval()
    return Prepared(
        module=module,
        inputs=input_specs(network, analysis),
        outputs=output_ids(network),
        fresh=weights is None,
        seed=seed,
    )
