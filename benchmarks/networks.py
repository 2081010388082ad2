"""Large generated networks shared by the benchmarks."""

from engine.network import Network


def residual_mlp(blocks: int, width: int = 64) -> Network:
    """Input -> ``blocks`` x (Linear, LayerNorm, ReLU, Linear, Add skip) -> Linear -> Output.

    Five nodes per block, so ``blocks=100`` gives a 503-node network with 100 merges.
    """
    network = Network("bench")
    network.add_node("Input", {"shape": [width]}, (0, 0), "input")
    previous = "input"
    for b in range(blocks):
        x = 250.0 * (b + 1)
        ids = [f"fc{b}a", f"norm{b}", f"act{b}", f"fc{b}b", f"add{b}"]
        network.add_node("Linear", {"out_features": width}, (x, 0), ids[0])
        network.add_node("LayerNorm", {}, (x, 80), ids[1])
        network.add_node("ReLU", {}, (x, 160), ids[2])
        network.add_node("Linear", {"out_features": width}, (x, 240), ids[3])
        network.add_node("Add", {}, (x + 120, 120), ids[4])
        network.connect(previous, "out", ids[0], "in")
        for src, dst in [(ids[0], ids[1]), (ids[1], ids[2]), (ids[2], ids[3])]:
            network.connect(src, "out", dst, "in")
        network.connect(ids[3], "out", ids[4], "in1")
        network.connect(previous, "out", ids[4], "in2")
        previous = ids[4]
    network.add_node("Linear", {"out_features": 10}, (250.0 * (blocks + 1), 0), "head")
    network.add_node("Output", {}, (250.0 * (blocks + 2), 0), "output")
    network.connect(previous, "out", "head", "in")
    network.connect("head", "out", "output", "in")
    return network


def flat_resnet50(image: int = 32) -> Network:
    """ResNet-50 drawn flat, as an import gives it: stem, 16 bottleneck blocks, head.

    Each block is Conv2d/BatchNorm2d three times with ReLUs between, an Add of the
    skip and a ReLU; the first block of each stage has a projection shortcut
    (Conv2d + BatchNorm2d). 53 convolutions and 53 batch norms as in the paper: 177 nodes.
    """
    network = Network("resnet50")
    network.add_node("Input", {"shape": [3, image, image]}, node_id="input")
    previous = _sequence(network, "input", "stem", [("Conv2d", 64, 7, 2, 3), "bn", "relu"])
    network.add_node("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, node_id="pool")
    network.connect(previous, "out", "pool", "in")
    previous, channels = "pool", 64
    for stage, (blocks, width) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)]):
        for block in range(blocks):
            name = f"layer{stage + 1}_{block}"
            stride = 2 if block == 0 and stage > 0 else 1
            steps = [
                *[("Conv2d", width, 1, 1, 0), "bn", "relu"],
                *[("Conv2d", width, 3, stride, 1), "bn", "relu"],
                *[("Conv2d", width * 4, 1, 1, 0), "bn"],
            ]
            main = _sequence(network, previous, name, steps)
            skip = previous
            if block == 0:
                skip = _sequence(
                    network, previous, f"{name}_down", [("Conv2d", width * 4, 1, stride, 0), "bn"]
                )
            network.add_node("Add", node_id=f"{name}_add")
            network.connect(main, "out", f"{name}_add", "in1")
            network.connect(skip, "out", f"{name}_add", "in2")
            previous = _sequence(network, f"{name}_add", name, ["relu"], start=9)
            channels = width * 4
    network.add_node("AdaptiveAvgPool2d", {"output_size": 1}, node_id="avgpool")
    network.add_node("Flatten", node_id="flatten")
    network.add_node("Linear", {"out_features": 10}, node_id="fc")
    network.add_node("Output", node_id="output")
    for src, dst in [
        (previous, "avgpool"),
        ("avgpool", "flatten"),
        ("flatten", "fc"),
        ("fc", "output"),
    ]:
        network.connect(src, "out", dst, "in")
    assert channels == 2048
    return network


def _sequence(network: Network, previous: str, name: str, steps, start: int = 0) -> str:
    """Append Conv2d ``(type, out, kernel, stride, padding)``, "bn" and "relu" steps."""
    for index, step in enumerate(steps, start=start):
        node_id = f"{name}_{index}"
        if step == "bn":
            network.add_node("BatchNorm2d", node_id=node_id)
        elif step == "relu":
            network.add_node("ReLU", node_id=node_id)
        else:
            _, out, kernel, stride, padding = step
            params = {"out_channels": out, "kernel_size": kernel, "stride": stride}
            network.add_node(
                "Conv2d", {**params, "padding": padding, "bias": False}, node_id=node_id
            )
        network.connect(previous, "out", node_id, "in")
        previous = node_id
    return previous
