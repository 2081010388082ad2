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
