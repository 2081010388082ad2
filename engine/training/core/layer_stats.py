"""Per-layer weight and gradient statistics of a training run, cheaply.

For each node with trainable weights, per epoch: the norm of its weights at the end,
the mean norm of its gradient over the batches it was sampled on, and the
update-to-weight ratio (how far the epoch moved the weights, relative to their size at
its start). The gradient is read right after ``backward``, before the optimizer clears
it, on about ``SAMPLES`` batches of each epoch, with one fused norm over all tensors
(``torch._foreach_norm``), so that recording costs little next to the steps themselves
(``benchmarks/bench_layer_stats.py`` measures it).

Each epoch also gives, per node, a ``Histogram`` of its weights at the end and of the
gradient of the last batch it read (a copy taken with the reading, before clipping or
anything else touches it): ``BINS`` equal bins between the node's smallest and largest
value, counted once per epoch with ``torch.histc``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

SAMPLES = 16  # gradient readings per epoch
BINS = 30  # bins of the weight and gradient histograms


@dataclass(frozen=True)
class Histogram:
    """How the values of a node's tensors spread (plain numbers, no tensors).

    Attributes:
        edges: ``len(counts) + 1`` bin edges, from the smallest value to the largest.
        counts: how many values fall in each bin (the last bin holds its right edge).
        total: how many finite values were counted.
        sum, sum_squares: of those values (TensorBoard shows their mean and spread).
    """

    edges: tuple
    counts: tuple
    total: int
    sum: float
    sum_squares: float


class LayerStats:
    """The statistics of the nodes of one network (see the module docstring).

    Args:
        named_parameters: ``module.named_parameters()``; frozen tensors are skipped.
        node_of: the node a tensor belongs to, from its name (default: the part before
            the first dot, ``layer1_0`` for ``layer1_0.conv1.weight``).
        batches: batches per epoch, to spread the readings over the epoch.
    """

    def __init__(
        self,
        named_parameters: Iterable,
        batches: int,
        node_of: Callable[[str], str] = lambda name: name.split(".", 1)[0],
    ):
        import torch

        self.nodes: list[str] = []
        self.params = []
        owners = []
        for name, param in named_parameters:
            if not param.requires_grad:
                continue
            node = node_of(name)
            if node not in self.nodes:
                self.nodes.append(node)
            owners.append(self.nodes.index(node))
            self.params.append(param)
        device = self.params[0].device if self.params else "cpu"
        self._owners = owners
        self._owner = torch.tensor(owners, dtype=torch.long, device=device)
        self.batches, self.every = batches, max(1, batches // SAMPLES)
        self._calls = 0
        self._start: list = []
        self._grad_sum = None
        self._readings = 0
        self._last_grads: list = []  # (index, tensor) of the last reading
        self.histograms: dict[str, dict] = {}  # of the last epoch ended

    def begin_epoch(self) -> None:
        """Remember the weights the epoch starts from."""
        import torch

        self._start = [p.detach().clone() for p in self.params]
        self._grad_sum = torch.zeros(len(self.nodes), device=self._owner.device)
        self._readings, self._calls = 0, 0
        self._last_grads = []

    def observer(self) -> Callable[[], None] | None:
        """``observe`` when this step's gradient is to be read, else None."""
        self._calls += 1
        due = self.params and self._grad_sum is not None and self._calls % self.every == 0
        return self.observe if due else None

    def observe(self) -> None:
        """Add the gradient norm of each node (call after backward, before it is cleared)."""
        import torch

        with torch.no_grad():
            present = [(i, p.grad) for i, p in enumerate(self.params) if p.grad is not None]
            if not present:
                return
            norms = torch.stack(torch._foreach_norm([g.float() for _, g in present]))
            owner = self._owner[[i for i, _ in present]]
            squares = torch.zeros_like(self._grad_sum).index_add_(0, owner, norms.square())
            self._grad_sum += squares.sqrt()
            self._readings += 1
            if self._calls + self.every > self.batches:  # the epoch's last reading
                # copied: clipping scales it in place, and a GAN's generator step adds to
                # the discriminator's before it is cleared
                self._last_grads = [(i, g.detach().clone()) for i, g in present]

    def end_epoch(self, epoch: int) -> list[dict]:
        """One row per node: ``epoch``, ``node``, ``weight_norm``, ``grad_norm``,
        ``update_ratio``; ``histograms`` then holds the epoch's histograms."""
        import torch

        self.histograms = {}
        if not self.params or not self._start:
            return []
        self.histograms = self._histograms()
        with torch.no_grad():
            weights = self._per_node([p.detach().float() for p in self.params])
            before = self._per_node([s.float() for s in self._start])
            moved = self._per_node(
                [(p.detach() - s).float() for p, s in zip(self.params, self._start)]
            )
            grads = self._grad_sum / max(self._readings, 1)
            columns = [t.tolist() for t in (weights, grads, moved / before.clamp_min(1e-12))]
        return [
            {"epoch": epoch, "node": node, "weight_norm": w, "grad_norm": g, "update_ratio": r}
            for node, w, g, r in zip(self.nodes, *columns)
        ]

    def _histograms(self) -> dict[str, dict]:
        """``{node: {"weights": Histogram, "gradients": Histogram}}``; ``gradients`` is
        left out for a node whose gradient the epoch did not read."""
        weights = node_histograms(self.nodes, self._owners, self.params)
        read = self._last_grads
        self._last_grads = []
        owners = [self._owners[i] for i, _ in read]
        grads = node_histograms(self.nodes, owners, [g for _, g in read]) if read else {}
        result = {node: {"weights": hist} for node, hist in weights.items()}
        for node, hist in grads.items():
            result.setdefault(node, {})["gradients"] = hist
        return result

    def _per_node(self, tensors: list):
        import torch

        norms = torch.stack(torch._foreach_norm(tensors))
        squares = torch.zeros(len(self.nodes), device=norms.device)
        return squares.index_add_(0, self._owner, norms.square()).sqrt()


def histogram(tensors, bins: int = BINS) -> Histogram:
    """The histogram of every finite value of ``tensors`` together."""
    return node_histograms(["all"], [0] * len(tensors), list(tensors), bins)["all"]


def node_histograms(nodes: list, owner: list, tensors: list, bins: int = BINS) -> dict:
    """One ``Histogram`` per node of the finite values of its tensors (``owner[i]``: the
    index in ``nodes`` of the node ``tensors[i]`` belongs to); nodes without a finite
    value are left out. Two synchronisations, whatever the number of tensors."""
    import torch

    with torch.no_grad():
        flat = [t.detach().reshape(-1).float() for t in tensors]
        flat = [f for f in flat if f.numel()]
        owner = [o for o, t in zip(owner, tensors) if t.numel()]
        if not flat:
            return {}
        ranges = torch.stack([torch.stack(torch.aminmax(f)) for f in flat]).tolist()
        for i, (low, high) in enumerate(ranges):
            if not math.isfinite(low) or not math.isfinite(high):  # rare: filter, look again
                flat[i] = flat[i][torch.isfinite(flat[i])]
                ranges[i] = (
                    torch.stack(torch.aminmax(flat[i])).tolist() if flat[i].numel() else None
                )
        bounds: dict[int, list] = {}
        for node, span in zip(owner, ranges):
            if span is not None:
                low, high = bounds.get(node, span)
                bounds[node] = [min(low, span[0]), max(high, span[1])]
        for span in bounds.values():
            if span[1] <= span[0]:  # one value: a bin of width 1 around it
                span[0], span[1] = span[0] - 0.5, span[1] + 0.5
        order = list(bounds)
        totals = dict.fromkeys(order, 0)
        rows = {node: torch.zeros(bins + 2, dtype=torch.float64, device=flat[0].device)
                for node in order}  # fmt: skip
        for f, node in zip(flat, owner):
            if node in bounds and f.numel():
                low, high = bounds[node]
                counts = torch.histc(f, bins, low, high)
                rows[node] += torch.cat([counts, f.sum().reshape(1), f.square().sum().reshape(1)])
                totals[node] += f.numel()
        values = torch.stack([rows[node] for node in order]).tolist()
    result = {}
    for node, row in zip(order, values):
        low, high = bounds[node]
        step = (high - low) / bins
        edges = (*(low + step * k for k in range(bins)), high)
        counts = tuple(round(c) for c in row[:bins])
        result[nodes[node]] = Histogram(edges, counts, totals[node], row[bins], row[bins + 1])
    return result
