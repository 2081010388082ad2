"""Image augmentation applied to whole training batches on the training device.

Switched on by the dataset's ``augment`` param: ``true`` (small shifts and a little
noise, safe for digits and letters) or an object with any of ``hflip`` and ``vflip``
(mirror half of the images), ``shift`` (move by up to this many pixels, filling with
zeros) and ``noise`` (add Gaussian noise of this standard deviation). It runs on
tensors already on the device, so it costs no per-sample Python work; validation data
is never augmented.
"""

from __future__ import annotations

from typing import Any

from engine.errors import DataError

DEFAULT = {"hflip": False, "vflip": False, "shift": 1, "noise": 0.05}
_OFF = {"hflip": False, "vflip": False, "shift": 0, "noise": 0.0}


def check_augment(value: Any, name: str, kind: str | None = None) -> dict:
    """The augmentation settings as a full dict ({} when off); raises DataError if bad."""
    if value is False or value is None:
        return {}
    if value is True:
        settings = dict(DEFAULT)
        if kind is not None and kind != "image":
            settings["shift"] = 0
    elif isinstance(value, dict):
        unknown = sorted(set(value) - set(_OFF))
        if unknown:
            raise DataError(
                f"dataset {name}: augment has no setting {unknown[0]!r} "
                "(it takes hflip, vflip, shift, noise)"
            )
        settings = {**_OFF, **value}
    else:
        raise DataError(f'dataset {name}: "augment" must be true, false or an object')
    for key in ("hflip", "vflip"):
        if not isinstance(settings[key], bool):
            raise DataError(f"dataset {name}: augment {key} must be true or false")
    shift, noise = settings["shift"], settings["noise"]
    if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
        raise DataError(f"dataset {name}: augment shift must be a whole number of pixels >= 0")
    if isinstance(noise, bool) or not isinstance(noise, int | float) or noise < 0:
        raise DataError(f"dataset {name}: augment noise must be a number >= 0")
    spatial = settings["hflip"] or settings["vflip"] or shift
    if kind is not None and spatial and kind != "image":
        raise DataError(
            f"dataset {name}: flips and shifts need images, but these samples are {kind}; "
            "use only noise"
        )
    if kind == "tokens" and noise:
        raise DataError(f"dataset {name}: token ids cannot take noise; switch augment off")
    return settings
