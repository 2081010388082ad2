"""Epoch metrics, summed on the training device and read once per epoch.

- every task: ``loss`` (mean over samples);
- classification: ``accuracy`` (share of samples whose highest output is the class;
  with one output, a positive logit means class 1);
- regression: ``mae`` in the target's own units and ``r2`` (1 is perfect, 0 is no
  better than predicting the mean).

Sums stay on the device (no synchronisation per batch); ``totals()`` gives them as one
tensor so that distributed training adds them across processes with one all-reduce.
"""

from __future__ import annotations


class MetricSums:
    """Running sums for one pass over the data.

    Per batch only the few tensors needed are kept (no host synchronisation); they are
    added up once, in ``totals``.

    Args:
        task: the dataset's task.
        device: where the sums live.
        target_std: regression targets were divided by this (MAE is reported in the
            original units).
    """

    def __init__(self, task: str, device, target_std: float = 1.0):
        self.task = task
        self.device = device
        self.target_std = target_std
        self._losses: list = []
        self._counts: list[int] = []
        self._extra: list = []
        self._per_sample = 1

    def update(self, loss, output, target) -> None:
        """Add one batch: its mean ``loss`` tensor, the network's ``output``, the ``target``."""
        import torch

        n = output.shape[0]
        self._losses.append(loss.detach())
        self._counts.append(n)
        with torch.no_grad():
            if self.task == "classification":  # compared once, in totals()
                if output.dim() == 2 and output.shape[1] == 1:
                    predicted = (output[:, 0] > 0).long()
                else:
                    predicted = output.argmax(dim=1)
                self._extra.append((predicted, target))
            elif self.task == "regression":
                diff = output.detach().double().reshape(n, -1) - target.double().reshape(n, -1)
                tgt = target.double()
                self._per_sample = tgt.numel() // max(n, 1)
                self._extra.append(torch.stack(
                    [diff.abs().sum(), (diff * diff).sum(), tgt.sum(), (tgt * tgt).sum()]))  # fmt: skip

    def totals(self):
        """The sums as one float64 tensor (to all-reduce across processes):
        loss*n, n, correct, |error|, error², sum of targets, sum of targets², elements."""
        import torch

        sums = torch.zeros(8, dtype=torch.float64, device=self.device)
        if not self._losses:
            return sums
        counts = torch.tensor(self._counts, dtype=torch.float64, device=self.device)
        sums[0] = (torch.stack(self._losses).double().reshape(-1) * counts).sum()
        sums[1] = counts.sum()
        if self.task == "classification":
            predicted = torch.cat([p.reshape(-1) for p, _ in self._extra])
            target = torch.cat([t.reshape(-1) for _, t in self._extra])
            sums[2] = (predicted == target).sum().double()
        elif self.task == "regression":
            sums[3:7] = torch.stack(self._extra).sum(dim=0)
            sums[7] = float(self._per_sample * sum(self._counts))
        return sums

    def compute(self, totals=None) -> dict[str, float]:
        """The metrics as plain floats (one device synchronisation)."""
        values = (self.totals() if totals is None else totals).tolist()
        loss_sum, n, correct, abs_err, sq_err, sum_t, sum_t2, elements = values
        if n == 0:
            return {}
        result = {"loss": loss_sum / n}
        if self.task == "classification":
            result["accuracy"] = correct / n
        elif self.task == "regression" and elements:
            result["mae"] = abs_err / elements * self.target_std
            total = sum_t2 - sum_t * sum_t / elements
            result["r2"] = 1.0 - sq_err / total if total > 1e-12 else 0.0
        return result
