"""Per-layer weight and gradient statistics of a training run, cheaply.

For each node with trainable weights, per epoch: the norm of its weights at the end,
the mean norm of its gradient over the batches it was sampled on, and the
update-to-weight ratio (how far the epoch moved the weights, relative to their size at
its start). The gradient is read right after ``backward``, before the optimizer clears
it, on about ``SAMPLES`` batches of each epoch, with one fused norm over all tensors
(``torch._foreach_norm``), so that recording costs little next to the steps themselves
(``benchmarks/bench_trainer.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

SAMPLES = 16  # gradient readings per epoch


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
        self._owner = torch.tensor(owners, dtype=torch.long, device=device)
        self.every = max(1, batches // SAMPLES)
        self._calls = 0
        self._start: list = []
        self._grad_sum = None
        self._readings = 0

    def begin_epoch(self) -> None:
        """Remember the weights the epoch starts from."""
        import torch

        self._start = [p.detach().clone() for p in self.params]
        self._grad_sum = torch.zeros(len(self.nodes), device=self._owner.device)
        self._readings, self._calls = 0, 0

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

    def end_epoch(self, epoch: int) -> list[dict]:
        """One row per node: ``epoch``, ``node``, ``weight_norm``, ``grad_norm``,
        ``update_ratio``."""
        import torch

        if not self.params or not self._start:
            return []
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

    def _per_node(self, tensors: list):
        import torch

        norms = torch.stack(torch._foreach_norm(tensors))
        squares = torch.zeros(len(self.nodes), device=norms.device)
        return squares.index_add_(0, self._owner, norms.square()).sqrt()
