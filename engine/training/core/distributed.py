"""Training on several processes with ``torchrun`` (DistributedDataParallel).

``torchrun --nproc_per_node=N -m engine train FILE`` starts N copies of the command;
torchrun sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``. Each process trains on its
own share of the in-memory training data (the shuffled index is sharded per rank), the
gradients are averaged by DDP (nccl on CUDA, gloo on CPU), and only rank 0 prints and
writes files. Shutdown waits at a barrier before ``destroy_process_group``: without it
gloo sometimes aborted at exit (shared/PITFALLS.md #13).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in a distributed run."""

    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that prints and writes."""
        return self.rank == 0

    def device(self, name: str = "auto"):
        """This rank's device: its own GPU by LOCAL_RANK on CUDA, else the CPU."""
        import torch

        if self.backend == "nccl":
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    def shard(self, order):
        """This rank's part of a shuffled index; every rank gets the same count."""
        usable = (len(order) // self.world_size) * self.world_size
        return order[self.rank : usable : self.world_size]

    def all_reduce(self, tensor):
        """Sum ``tensor`` over all processes, in place; returns it."""
        import torch.distributed as dist

        dist.all_reduce(tensor)
        return tensor

    def wrap(self, module):
        """The module wrapped in DistributedDataParallel."""
        from torch.nn.parallel import DistributedDataParallel

        if self.backend == "nccl":
            return DistributedDataParallel(module, device_ids=[self.local_rank])
        return DistributedDataParallel(module)


def from_environment(device: str = "auto") -> DistributedContext | None:
    """Start the process group when run under torchrun; None for a single process.

    Args:
        device: the training device setting: ``cpu`` forces gloo even with GPUs.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return None
    import torch
    import torch.distributed as dist

    use_cuda = torch.cuda.is_available() and device != "cpu"
    backend = "nccl" if use_cuda else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, backend)


def shutdown(context: DistributedContext | None, failed: bool = False) -> None:
    """Wait for every process (unless this one failed), then end the process group."""
    if context is None:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        try:
            if not failed:
                dist.barrier()
        finally:
            dist.destroy_process_group()
