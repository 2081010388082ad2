"""Importing a ResNet-50 written in PyTorch (run on demand, never in tests).

    .venv/bin/python benchmarks/bench_import.py [--image 224]

Two ResNet-50s, imported with ``import_model``: the flat one of ``benchmarks/networks.py``
written as PyTorch code by ``deepwire code``, and one written as torchvision writes it
(``Bottleneck`` modules in ``layer1`` ... ``layer4``), whose modules become blocks.
Prints the median import time of each (goal: under 3 s on 2 cores) and, as a reference
measured in the same run, the floor any import pays: constructing the model, tracing it
with torch.fx and running it once on the example batch. Their ratio shows what the
import adds on top.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from benchmarks.networks import flat_resnet50
from engine.codegen import generate_code
from engine.importer import import_model

ROUNDS = 3
TORCHVISION_STYLE = """
import torch
from torch import nn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 3)
        self.layer2 = self._make_layer(128, 4, 2)
        self.layer3 = self._make_layer(256, 6, 2)
        self.layer4 = self._make_layer(512, 3, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2048, 1000)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = nn.Sequential(
            nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
        )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))
"""


def floor_seconds(model_class, image: int) -> float:
    """Construct, trace and run the model once: what any import must do."""
    start = time.perf_counter()
    model = model_class().eval()
    traced = torch.fx.symbolic_trace(model)
    with torch.no_grad():
        traced(torch.randn(2, 3, image, image))
    return time.perf_counter() - start


def measure(source: str, image: int) -> tuple[float, float, int, int]:
    """(median import s, median floor s, nodes, block types) of the model in ``source``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resnet50.py"
        path.write_text(source)
        namespace: dict = {}
        exec(compile(source, str(path), "exec"), namespace)
        imports, floors = [], []
        for _ in range(ROUNDS):
            floors.append(floor_seconds(namespace["ResNet50"], image))
            start = time.perf_counter()
            result = import_model(f"{path}:ResNet50", input_shapes=[(3, image, image)])
            imports.append(time.perf_counter() - start)
    network = result.network
    return statistics.median(imports), statistics.median(floors), len(network), len(network.library)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=int, default=224, help="input size (default 224)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    sources = {
        "flat (deepwire code)": generate_code(flat_resnet50(args.image), "ResNet50"),
        "torchvision-style modules": TORCHVISION_STYLE,
    }
    print(f"ResNet-50 at {args.image}x{args.image}")
    for label, source in sources.items():
        took, floor, nodes, types = measure(source, args.image)
        print(
            f"{label}: {nodes} nodes, {types} block types; import median {took:.2f} s "
            f"({took / 3:.2f} x the 3 s goal); floor (construct, trace, one forward) "
            f"{floor:.2f} s; import / floor {took / floor:.1f}"
        )


if __name__ == "__main__":
    main()
