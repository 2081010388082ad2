"""Pooling and resizing: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Upsample.

Pooling summarises each window of a feature map by its maximum or mean, shrinking it
and making the network tolerant to small shifts; it learns nothing. The shape rules use
torch's formulas, ceil_mode included; a window larger than its input is an error.
"""

from math import floor

from engine.errors import ShapeError
from engine.layers.conv import check_window_fits, expect_grid, window_output
from engine.layers.spec import Call, Example, LayerSpec, NoMatch, Param, argument, pair


def _pool_settings(params, dims):
    kernel = pair(params["kernel_size"], dims)
    stride = kernel if params["stride"] is None else pair(params["stride"], dims)
    padding = pair(params["padding"], dims)
    dilation = pair(params.get("dilation", 1), dims)
    return kernel, stride, padding, dilation


def _pool_shape(dims):
    def infer(params, inputs):
        (shape,) = inputs
        expect_grid(shape, dims)
        kernel, stride, padding, dilation = _pool_settings(params, dims)
        for k, p in zip(kernel, padding):
            if p > k // 2:
                raise ShapeError(
                    f"has padding {p}, but padding may be at most half the window ({k} // 2)"
                )
        check_window_fits(shape, shape[1:], kernel, padding, dilation, "window")
        ceil = params["ceil_mode"]
        sizes = map(window_output, shape[1:], kernel, stride, padding, dilation, (ceil,) * dims)
        return (shape[0], *sizes)

    return infer


def _pool_summary(params, dims):
    kernel = "x".join(str(k) for k in pair(params["kernel_size"], dims))
    if params["stride"] is None or pair(params["stride"], dims) == pair(
        params["kernel_size"], dims
    ):
        return kernel
    stride = "x".join(str(s) for s in pair(params["stride"], dims))
    return f"{kernel} /{stride}"


def _pool_params(dims, dilation=True):
    kind = "int_or_tuple" if dims > 1 else "int"
    params = [
        Param("kernel_size", kind, 2, "Size of the window summarised.", minimum=1, length=dims),
        Param(
            "stride",
            kind,
            None,
            "Step between windows; auto = the window size.",
            minimum=1,
            length=dims,
            optional=True,
        ),
        Param("padding", kind, 0, "Padding added on each side.", minimum=0, length=dims),
    ]
    if dilation:
        params.append(
            Param("dilation", kind, 1, "Spacing between window taps.", minimum=1, length=dims)
        )
    params.append(
        Param("ceil_mode", "bool", False, "Round the output size up: keep a partial window.")
    )
    return tuple(params)


def _pool_read(dims):
    def read(module):
        """torch keeps the default stride (None) as the window size."""
        same = pair(module.stride, dims) == pair(module.kernel_size, dims)
        return {"stride": None if same else module.stride}

    return read


def _pool_spec(name, dims, help, examples, dilation=True):
    return LayerSpec(
        name=name,
        family="Convolution",
        help=help,
        params=_pool_params(dims, dilation),
        infer=_pool_shape(dims),
        module=lambda p, i: (name, dict(p)),
        read=_pool_read(dims),
        summary=lambda p: _pool_summary(p, dims),
        examples=examples,
    )


def _adaptive_shape(params, inputs):
    (shape,) = inputs
    expect_grid(shape, 2)
    return (shape[0], *pair(params["output_size"], 2))


def _upsample_shape(params, inputs):
    (shape,) = inputs
    expect_grid(shape, 2)
    scale = pair(params["scale_factor"], 2)
    return (shape[0], *(floor(float(n) * s) for n, s in zip(shape[1:], scale)))


def _upsample_summary(params):
    scale = pair(params["scale_factor"], 2)
    text = "x".join(f"{s:g}" for s in scale) if scale[0] != scale[1] else f"{scale[0]:g}"
    return f"x{text}, {params['mode']}"


def _read_adaptive(args, kwargs):
    """``F.adaptive_avg_pool2d(x, (1, 1))``; a None size (keep the input's) has no param."""
    size = argument(args, kwargs, 1, "output_size")
    sizes = list(size) if isinstance(size, list | tuple) else [size]
    if not sizes or not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
        raise NoMatch(f"to the size {size!r}")
    return {"output_size": sizes[0] if len(set(sizes)) == 1 else sizes}


SPECS = [
    _pool_spec(
        "MaxPool1d",
        1,
        "Keeps the largest value of each window along a signal (channels, length), "
        "shrinking it. Use it after Conv1d layers.",
        (
            Example(((3, 10),)),
            Example(((2, 11),), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
        ),
    ),
    _pool_spec(
        "MaxPool2d",
        2,
        "Keeps the largest value of each window of a feature map, halving its size with "
        "the default 2x2 window. The usual step between Conv2d blocks.",
        (
            Example(((3, 8, 8),)),
            Example(((2, 7, 9),), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
            Example(((1, 9, 9),), {"kernel_size": [3, 2], "padding": [1, 0], "dilation": 2}),
        ),
    ),
    _pool_spec(
        "AvgPool2d",
        2,
        "Replaces each window of a feature map by its mean, shrinking it more smoothly "
        "than max pooling.",
        (
            Example(((3, 8, 8),)),
            Example(((2, 7, 5),), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
        ),
        dilation=False,
    ),
    LayerSpec(
        name="AdaptiveAvgPool2d",
        family="Convolution",
        help=(
            "Averages a feature map down to a fixed output_size whatever its input size; "
            "with output_size 1 it is the global average pooling that ends modern CNNs."
        ),
        params=(
            Param(
                "output_size",
                "int_or_tuple",
                1,
                "Height and width of the output.",
                minimum=1,
            ),
        ),
        infer=_adaptive_shape,
        module=lambda p, i: ("AdaptiveAvgPool2d", {"output_size": p["output_size"]}),
        calls=(Call(("torch.nn.functional.adaptive_avg_pool2d",), read=_read_adaptive),),
        summary=lambda p: "x".join(str(s) for s in pair(p["output_size"], 2)),
        examples=(Example(((3, 7, 7),)), Example(((2, 8, 6),), {"output_size": [3, 2]})),
    ),
    LayerSpec(
        name="Upsample",
        family="Convolution",
        help=(
            "Enlarges a feature map by scale_factor, copying pixels (nearest) or blending "
            "them (bilinear). Learns nothing; a cheap alternative to ConvTranspose2d."
        ),
        params=(
            Param(
                "scale_factor",
                "float_or_tuple",
                2.0,
                "How many times larger the height and width become.",
                minimum=0.01,
                maximum=100.0,
            ),
            Param(
                "mode",
                "choice",
                "nearest",
                "nearest copies pixels; bilinear blends them.",
                choices=("nearest", "bilinear"),
            ),
        ),
        infer=_upsample_shape,
        module=lambda p, i: ("Upsample", {"scale_factor": p["scale_factor"], "mode": p["mode"]}),
        summary=_upsample_summary,
        examples=(
            Example(((2, 3, 4),)),
            Example(((1, 5, 5),), {"scale_factor": [1.5, 3.0], "mode": "bilinear"}),
        ),
    ),
]
