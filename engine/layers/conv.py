"""Convolutions: Conv1d, Conv2d and ConvTranspose2d.

A convolution slides small learned filters over a signal (Conv1d: (channels, length))
or an image (Conv2d: (channels, height, width)). ``in_channels`` is inferred. The shape
rules use torch's formulas, ``floor((size + 2*padding - dilation*(kernel-1) - 1) /
stride) + 1``, and a Conv's padding may also be ``"same"`` or ``"valid"``.
"""

from math import prod

from engine.errors import ShapeError
from engine.layers.rules import expect_rank, fmt, image_guess, numel
from engine.layers.spec import Example, LayerSpec, Param, pair

_GRID = {1: "(channels, length)", 2: "(channels, height, width)"}


def _sizes(values) -> str:
    """``(3, 3)`` -> ``3x3``; ``(5,)`` -> ``5``."""
    return "x".join(str(v) for v in values)


def expect_grid(shape, dims: int) -> None:
    """Raise ShapeError unless ``shape`` is (channels, *``dims`` spatial sizes)."""
    if dims == 2 and len(shape) == 1:
        raise ShapeError(
            f"expects an image {_GRID[2]}, got the flat vector {fmt(shape)}; add a Reshape "
            f"or Unflatten before it, e.g. to {image_guess(shape[0])}"
        )
    if dims == 1 and len(shape) == 1:
        raise ShapeError(
            f"expects a signal {_GRID[1]}, got {fmt(shape)}; add a Reshape before it, "
            f"e.g. to (1, {shape[0]})"
        )
    what = "an image" if dims == 2 else "a signal"
    expect_rank(shape, (dims + 1,), f"{what} {_GRID[dims]}", _rank_hint(shape, dims))


def _rank_hint(shape, dims: int) -> str:
    if len(shape) > dims + 1:
        return "add a Flatten or Reshape before it to drop the extra dimensions"
    return "add a Reshape before it"


def window_output(size, kernel, stride, padding, dilation, ceil_mode=False) -> int:
    """torch's output size of a convolution or pooling window along one dimension."""
    span = dilation * (kernel - 1) + 1
    room = size + 2 * padding - span
    if ceil_mode:
        out = -(-room // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return room // stride + 1


def check_window_fits(shape, spatial, kernel, padding, dilation, what="kernel") -> None:
    """ShapeError when a (dilated) window is larger than the padded input."""
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > n + 2 * p for s, n, p in zip(spans, spatial, padding)):
        padded = "" if not any(padding) else f" (plus padding {_sizes(padding)})"
        size = (
            _sizes(kernel)
            if spans == tuple(kernel)
            else f"{_sizes(kernel)} dilated to {_sizes(spans)}"
        )
        raise ShapeError(
            f"has a {what} of {size} but its input is only {_sizes(spatial)}{padded} "
            f"in {fmt(shape)}; use a smaller kernel_size or dilation, or add padding"
        )


def _conv_settings(params, dims):
    kernel = pair(params["kernel_size"], dims)
    stride = pair(params["stride"], dims)
    dilation = pair(params["dilation"], dims)
    return kernel, stride, dilation


def _check_groups(channels, params):
    groups, out = params["groups"], params["out_channels"]
    if channels % groups or out % groups:
        raise ShapeError(
            f"has groups={groups}, which must divide both its input channels ({channels}) "
            f"and out_channels ({out}); choose a groups value that divides both"
        )


def _conv_padding(params, dims, kernel, stride, dilation):
    """The padding per side of each dimension; 'same' padding as torch computes it."""
    padding = params["padding"]
    if padding == "valid":
        return (0,) * dims
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ShapeError("has padding 'same', which torch only allows with stride 1")
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    return pair(padding, dims)


def _conv_shape(dims):
    def infer(params, inputs):
        (shape,) = inputs
        expect_grid(shape, dims)
        _check_groups(shape[0], params)
        kernel, stride, dilation = _conv_settings(params, dims)
        padding = _conv_padding(params, dims, kernel, stride, dilation)
        spatial = shape[1:]
        if params["padding"] == "same":
            return (params["out_channels"], *spatial)
        check_window_fits(shape, spatial, kernel, padding, dilation)
        sizes = map(window_output, spatial, kernel, stride, padding, dilation)
        return (params["out_channels"], *sizes)

    return infer


def _conv_count(dims):
    def count(params, inputs):
        kernel = pair(params["kernel_size"], dims)
        channels = inputs[0][0]
        weights = params["out_channels"] * channels // params["groups"] * prod(kernel)
        return weights + (params["out_channels"] if params["bias"] else 0)

    return count


def _conv_macs(dims):
    def macs(params, inputs, output):
        kernel = pair(params["kernel_size"], dims)
        return numel(output) * inputs[0][0] // params["groups"] * prod(kernel)

    return macs


def _conv_module(name):
    def module(params, inputs):
        return name, {"in_channels": inputs[0][0], **params}

    return module


def _conv_summary(params, dims):
    kernel = _sizes(pair(params["kernel_size"], dims))
    stride = pair(params["stride"], dims)
    suffix = f" /{_sizes(stride)}" if any(s != 1 for s in stride) else ""
    return f"{kernel}{suffix}, {params['out_channels']}"


def _conv_params(dims, transposed=False):
    kind = "int_or_tuple" if dims > 1 else "int"
    padding_help = "Zeros added on each side" + (
        " (shrinks the output)." if transposed else "; 'same' keeps the size (stride 1)."
    )
    padding = Param(
        "padding",
        "int_or_tuple",
        0,
        padding_help,
        minimum=0,
        length=dims,
        choices=() if transposed else ("same", "valid"),
    )
    params = [
        Param("out_channels", "int", 16, "Number of filters, i.e. output channels.", minimum=1),
        Param("kernel_size", kind, 3, "Size of each filter.", minimum=1, length=dims),
        Param(
            "stride",
            kind,
            1,
            "Step between filter positions; 2 halves the size.",
            minimum=1,
            length=dims,
        ),
        padding,
    ]
    if transposed:
        params.append(
            Param(
                "output_padding",
                kind,
                0,
                "Extra rows/columns added on one side to reach an exact size.",
                minimum=0,
                length=dims,
            )
        )
    params += [
        Param(
            "dilation",
            kind,
            1,
            "Spacing between filter taps; widens the view.",
            minimum=1,
            length=dims,
        ),
        Param("groups", "int", 1, "Split channels into independent groups.", minimum=1),
        Param("bias", "bool", True, "Learn an offset per output channel."),
    ]
    return tuple(params)


def _conv_spec(dims, help, examples):
    return LayerSpec(
        name=f"Conv{dims}d",
        family="Convolution",
        help=help,
        params=_conv_params(dims),
        infer=_conv_shape(dims),
        count_params=_conv_count(dims),
        macs=_conv_macs(dims),
        module=_conv_module(f"Conv{dims}d"),
        summary=lambda p: _conv_summary(p, dims),
        examples=examples,
    )


def _transpose_shape(params, inputs):
    (shape,) = inputs
    expect_grid(shape, 2)
    _check_groups(shape[0], params)
    kernel, stride, dilation = _conv_settings(params, 2)
    padding = pair(params["padding"], 2)
    extra = pair(params["output_padding"], 2)
    for e, s, d in zip(extra, stride, dilation):
        if e >= s and e >= d:
            raise ShapeError(
                f"has output_padding {e}, which must be smaller than stride ({s}) or dilation ({d})"
            )
    sizes = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + e + 1
        for n, k, s, p, d, e in zip(shape[1:], kernel, stride, padding, dilation, extra)
    )
    return (params["out_channels"], *sizes)


def _transpose_macs(params, inputs, output):
    kernel = pair(params["kernel_size"], 2)
    return numel(inputs[0]) * params["out_channels"] // params["groups"] * prod(kernel)


SPECS = [
    _conv_spec(
        1,
        "Slides learned filters along a signal or sequence of shape (channels, length), "
        "finding local patterns wherever they occur. Use it for audio, sensor data or "
        "text features.",
        (
            Example(((3, 20),), {"out_channels": 4, "kernel_size": 5}),
            Example(((4, 11),), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
            Example(((2, 9),), {"padding": "same", "kernel_size": 4}),
        ),
    ),
    _conv_spec(
        2,
        "Slides small learned filters over an image (channels, height, width), each "
        "producing a feature map that lights up where its pattern appears. The core of "
        "CNNs for images.",
        (
            Example(((1, 8, 8),), {"out_channels": 4}),
            Example(((3, 9, 7),), {"kernel_size": [3, 2], "stride": 2, "padding": [1, 0]}),
            Example(((4, 10, 10),), {"out_channels": 6, "groups": 2, "dilation": 2, "bias": False}),
            Example(((2, 6, 5),), {"padding": "same", "kernel_size": 4, "dilation": 2}),
            Example(((2, 6, 5),), {"padding": "valid"}),
        ),
    ),
    LayerSpec(
        name="ConvTranspose2d",
        family="Convolution",
        help=(
            "A convolution run backwards: it enlarges a feature map, e.g. doubles its size "
            "with kernel_size 2 and stride 2. Use it in decoders and GAN generators."
        ),
        params=_conv_params(2, transposed=True),
        infer=_transpose_shape,
        count_params=_conv_count(2),
        macs=_transpose_macs,
        module=_conv_module("ConvTranspose2d"),
        summary=lambda p: _conv_summary(p, 2),
        examples=(
            Example(((4, 5, 5),), {"out_channels": 2, "kernel_size": 2, "stride": 2}),
            Example(((4, 3, 4),), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
            Example(((2, 3, 3),), {"kernel_size": [3, 1], "dilation": 2, "bias": False}),
        ),
    ),
]
