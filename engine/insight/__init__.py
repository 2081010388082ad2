"""Insight: what a network computes inside, for pictures a learner can read.

- ``probe``: every node's output for one sample (``Probe``), on random or trained weights;
- ``stats``: one tensor's mean, std, range and share of zeros (``TensorStats``);
- ``samples``: the sample to look at, from the project's data or made up;
- ``render``: tensors as pictures (feature-map grids, heat strips, matrices, filters),
  written as PNG.

Nothing here imports Qt; torch is imported when a function runs.
"""
