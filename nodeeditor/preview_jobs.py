"""The previews' work, done off the main thread: every node's output for one sample.

A ``PreviewJob`` is what the controller (``nodeeditor.previews``) hands over: a copy of
the network, which weights (none: random ones from a fixed seed, so that previews do
not flicker from one edit to the next), and which sample. ``PreviewMaker`` runs it
with ``engine.insight`` and returns a ``PreviewResult``: a picture (QImage, safe to
make in any thread) and a tooltip per node, and the statistics per output port for
the wires. It keeps what costs most between jobs: the compiled ``Probe`` while the
network is the same (a training snapshot only swaps the weights in) and the loaded
data while the dataset section is.

A network with errors previews the part of it that can run (``runnable_part``); the
rest shows none. A sample that cannot be had (no dataset, a dataset that does not fit
the network, an index past its end) is replaced by a made-up one, and the result's
``note`` says why. Nothing raises out of ``PreviewMaker.make``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.errors import DeepwireError
from nodeeditor.canvas.preview_item import MAX_SIZE
from nodeeditor.pictures import rgb_image

SLOT_ASPECT = MAX_SIZE[0] / MAX_SIZE[1]  # feature maps are laid out to fill it
DEAD_SHARE = 0.25  # this share of exact zeros or more is worth a word in the tooltip


@dataclass
class PreviewJob:
    """One request for previews.

    Attributes:
        generation: the controller's count; a result of an older one is dropped.
        network: a copy of the network (the editor may change its own meanwhile).
        version: changes whenever the network does (the compiled Probe is kept
            while it stays the same).
        weights: a function giving the weights to use (read lazily: a file), or None
            for random ones; ``weights_id`` tells one set from another.
        section: the project's dataset section (None: no data), read from ``base_dir``.
        dataset: the data already loaded for that section, or None.
        index: which validation sample.
    """

    generation: int
    network: object
    version: int
    weights: Callable[[], dict] | None = None
    weights_id: object = None
    section: dict | None = None
    base_dir: object = None
    dataset: object = None
    index: int = 0


@dataclass
class PreviewResult:
    """What a job made.

    Attributes:
        generation: the job's.
        nodes: node id -> ``(QImage, text)``: the text says the node's output shape,
            the sample and the statistics.
        ports: ``(node id, port)`` -> the statistics line for a wire from that port.
        note: a sentence for the status bar ("" when all went as asked).
        seconds: how long the job took.
    """

    generation: int
    nodes: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)
    note: str = ""
    seconds: float = 0.0


def stats_text(stats) -> str:
    """The statistics line of a tensor, naming dead units when many values are zero."""
    text = stats.describe()
    if stats.zero_fraction >= DEAD_SHARE:
        text += " — dead units? (off for this sample)"
    return text


class PreviewMaker:
    """Runs ``PreviewJob``s one at a time, keeping the Probe and the data between them."""

    def __init__(self):
        self._probe = None
        self._probe_key: tuple | None = None  # (network version, weights id)
        self._data: tuple[str, object] | None = None  # (section key, dataset)
        self._inputs: tuple[tuple, tuple] | None = None  # (job's sample key, _sample's answer)

    def make(self, job: PreviewJob) -> PreviewResult:
        """The previews of ``job`` (never raises: a failure is an empty result's note)."""
        start = time.perf_counter()
        try:
            result = self._make(job)
        except DeepwireError as error:
            result = PreviewResult(job.generation, note=f"Previews: {error}")
        except Exception as error:  # a preview must never take the editor down
            result = PreviewResult(job.generation, note=f"Previews failed: {error}")
        result.seconds = time.perf_counter() - start
        return result

    def _make(self, job: PreviewJob) -> PreviewResult:
        from engine.insight.render import picture

        probe, note = self._probe_for(job)
        if probe is None:
            return PreviewResult(job.generation, note=note)
        inputs, source, sample_note = self._sample(job, probe.network)
        outputs = probe.run(inputs)
        images = image_shapes(inputs)
        result = PreviewResult(job.generation, note=note or sample_note)
        for (node_id, port), output in outputs.items():
            line = stats_text(output.stats)
            result.ports[(node_id, port)] = line
            if node_id not in result.nodes:
                shape = "(" + ", ".join(str(s) for s in output.stats.shape) + ")"
                text = f"{node_id} {shape}, {source}\n{line}"
                kind = "image" if output.stats.shape in images else None
                array = picture(output.tensor, kind=kind, aspect=SLOT_ASPECT)
                result.nodes[node_id] = (rgb_image(array), text)
        return result

    def _probe_for(self, job: PreviewJob):
        """The Probe for the job's network and weights: (probe or None, note)."""
        from engine.insight.probe import Probe
        from engine.insight.runnable import runnable_part

        key = (job.version, job.weights_id)
        if self._probe is not None and self._probe_key == key:
            return self._probe, ""
        if self._probe is None or self._probe_key[0] != job.version or job.weights is None:
            part = runnable_part(job.network)
            if not part.nodes:
                self._probe, self._probe_key = None, None
                return None, ""
            self._probe = Probe(part, seed=0)
        self._probe_key, note = key, ""
        if job.weights is not None:
            try:
                self._probe.load_state(job.weights())
            except DeepwireError as error:  # kept weights of another network
                self._probe = Probe(self._probe.network, seed=0)
                note = f"Previews use random weights: {error}"
        return self._probe, note

    def _sample(self, job: PreviewJob, network) -> tuple[dict, str, str]:
        """(inputs, what they are, a note when not what was asked for), kept while the
        network, the data and the index stay the same (a training snapshot's job)."""
        key = (job.version, _section_key(job.section, job.base_dir), job.index)
        if self._inputs is None or self._inputs[0] != key:
            self._inputs = (key, self._read_sample(job, network))
        return self._inputs[1]

    def _read_sample(self, job: PreviewJob, network) -> tuple[dict, str, str]:
        from engine.insight.samples import dataset_sample, example_sample
        from engine.project import Project

        if job.section:
            try:
                dataset = job.dataset or self._dataset(job.section, job.base_dir)
                project = Project({network.name: network}, job.section, {})
                inputs = dataset_sample(project, job.index, network=network, dataset=dataset)
                return inputs, f"validation sample {job.index}", ""
            except DeepwireError as error:
                note = f"Previews show a made-up sample: {error}"
                return example_sample(network), "a made-up sample", note
        return example_sample(network), "a made-up sample (no dataset)", ""

    def _dataset(self, section: dict, base_dir):
        """The data of ``section``, loaded once while the section stays the same."""
        from engine.data import load_dataset

        key = _section_key(section, base_dir)
        if self._data is None or self._data[0] != key:
            self._data = (key, load_dataset(section, base_dir))
        return self._data[1]


def _section_key(section: dict | None, base_dir) -> str:
    return json.dumps(section, sort_keys=True, default=str) + f"|{base_dir}"


def image_shapes(inputs: dict) -> set[tuple]:
    """The shapes of the inputs that are images (1 or 3 channels): an output of the
    same shape (the Input itself, an autoencoder's reconstruction) is drawn as one."""
    shapes = {tuple(value.shape) for value in inputs.values()}
    return {s for s in shapes if len(s) == 3 and s[0] in (1, 3)}
