"""Activations of mobile and modern CNNs: ReLU6, Hardswish, Hardsigmoid, Mish.

They belong to the Activation family (the palette group); this file only keeps them
apart from the classic ones in ``activation.py``.
"""

from engine.layers.activation import _activation

SPECS = [
    _activation(
        "ReLU6",
        "min(max(0, x), 6): a ReLU capped at 6, so values stay small enough for cheap "
        "low-precision arithmetic. Used in MobileNetV1 and V2.",
    ),
    _activation(
        "Hardswish",
        "x * ReLU6(x + 3) / 6: a cheap piecewise version of SiLU (Swish) made of straight "
        "lines, used in MobileNetV3.",
    ),
    _activation(
        "Hardsigmoid",
        "ReLU6(x + 3) / 6: a cheap piecewise version of Sigmoid, from 0 below -3 to 1 "
        "above 3. MobileNetV3's squeeze-excite gates use it.",
    ),
    _activation(
        "Mish",
        "x * tanh(softplus(x)): smooth and slightly non-monotonic like SiLU, used in "
        "YOLOv4 and some modern CNNs.",
    ),
]
