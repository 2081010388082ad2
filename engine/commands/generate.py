"""``deepwire generate FILE --weights W -n N -o samples.npy [--seed S]``: samples from a
trained GAN's generator.

The project's ``training`` section must use the adversarial recipe; its ``adversarial``
settings name the generator and the noise (normal or uniform, the size of the
generator's Input). ``W`` is the run's ``weights.safetensors`` (keys
``<generator>.<node id>.<tensor>``) or the generator's weights alone. The samples are
written as a NumPy ``.npy`` array of shape ``(N, *sample shape)`` in the units of the
dataset as loaded, before normalisation (digits: 0-16; ``rings``: the plane's
coordinates). The same ``--seed`` gives the same file. Bad input ends in one sentence
and exit 2; the file is written whole or not at all.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

from engine import project as project_file
from engine.bounds import INT_MAX
from engine.cli import EXIT_BAD_INPUT, EXIT_OK
from engine.errors import DeepwireError, ProjectError

BATCH = 1024  # samples per forward pass
MAX_BYTES = 2**28  # the samples are held in memory (a few copies) before the file is written


def register(commands) -> None:
    """Add ``generate`` to the ``deepwire`` parser."""
    generate = commands.add_parser(
        "generate", help="write samples from a trained GAN's generator to a .npy file"
    )
    generate.add_argument("file", help="a .dwire project that trains a GAN")
    generate.add_argument(
        "--weights",
        required=True,
        metavar="W",
        help="the trained GAN's weights.safetensors (or the generator's weights alone)",
    )
    generate.add_argument(
        "-n", dest="count", type=int, required=True, metavar="N", help="how many samples"
    )
    generate.add_argument("-o", "--output", required=True, help="the .npy file to write")
    generate.add_argument(
        "--seed", type=int, default=0, help="seed of the noise (default 0): same seed, same file"
    )
    generate.set_defaults(func=run_generate)


def run_generate(args) -> int:
    """Sample, put the samples in the data's units and write them; exit 2 on bad input."""
    import sys

    try:
        path = _generate(args)
    except DeepwireError as error:  # the project, its data, the weights or the output
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {args.count} samples to {path}")
    return EXIT_OK


def _generate(args) -> Path:
    from engine.data import load_dataset
    from engine.training import setup

    source = Path(args.file)
    proj = project_file.load(source)
    settings = gan_settings(proj, source.name)
    _check_count(args.count, args.seed)
    output = _check_output(Path(args.output))
    if proj.dataset is None:
        raise ProjectError(
            f'{source.name}: the project has no "dataset" section, so the units of its '
            "samples are unknown"
        )
    dataset = load_dataset(proj.dataset, source.parent)
    noise_shape, _ = setup.check_gan(proj.networks, dataset, settings)
    byte_count = args.count * math.prod(dataset.sample_shape) * 4
    if byte_count > MAX_BYTES:
        raise ProjectError(
            f"{args.count:,} samples would take {byte_count / 2**20:,.0f} MiB; write at most "
            f"{MAX_BYTES // 2**20} MiB at a time (a smaller -n)"
        )
    name = settings["generator"]
    generator = _trained_generator(proj.networks[name], name, args.weights)
    flat = sample(generator, args.count, noise_shape, settings["noise"], args.seed)
    samples = dataset.denormalize(flat.reshape(args.count, -1))
    project_file.write_atomic(output, npy_bytes(samples))
    return output


def gan_settings(proj, source: str) -> dict:
    """The checked ``adversarial`` settings of a project; ProjectError when it trains no
    GAN or its training section is wrong."""
    from engine.training.config import TrainingConfig

    try:
        config = TrainingConfig.from_dict(proj.training)
    except DeepwireError as error:
        raise ProjectError(f"{source}: {error}") from None
    if config.recipe != "adversarial":
        raise ProjectError(
            f'{source}: the project trains no GAN (its training section has no "recipe": '
            '"adversarial"), so it has no generator to sample from'
        )
    return config.adversarial


def _check_count(count: int, seed: int) -> None:
    if count < 1:
        raise ProjectError(f"-n must be a whole number of 1 or more, not {count}")
    if not 0 <= seed <= INT_MAX:
        raise ProjectError(f"--seed must be a whole number from 0 to {INT_MAX:,}, not {seed}")


def _check_output(path: Path) -> Path:
    """``path`` if a .npy file can be written there (nothing is written yet)."""
    from engine.file_access import cannot_write_in, refuse_read_only

    if path.suffix.lower() != ".npy":
        raise ProjectError(f"{path}: the samples are a NumPy array; name the file with .npy")
    if path.is_dir():
        raise ProjectError(f"cannot write the samples to {path}: it is a folder")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ProjectError(f"cannot write the samples to {path}: there is no folder {folder}")
    refuse_read_only(path)
    reason = cannot_write_in(folder, create=False)
    if reason:
        raise ProjectError(f"cannot write the samples to {path} ({reason})")
    return path


def _trained_generator(network, name: str, weights: str | os.PathLike):
    """Network ``name`` compiled with ``weights`` loaded (a GAN's file or its own)."""
    from engine.compile import compile_network
    from engine.weights import fitting_weights, network_weights, read_weights

    module = compile_network(network)
    state = network_weights(read_weights(weights), name)
    module.load_state_dict(fitting_weights(module, state, name=Path(weights).name), strict=True)
    return module.eval()


def sample(generator, count: int, noise_shape, noise: str, seed: int):
    """``count`` outputs of ``generator`` (in eval mode, on the CPU) for noise drawn with
    ``seed`` by the training core's ``sample_noise``; a float32 array."""
    import numpy as np
    import torch

    from engine.training.core.adversarial import sample_noise

    rng = torch.Generator().manual_seed(seed)
    out = None
    with torch.no_grad():
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            z = sample_noise(size, noise_shape, noise, generator=rng)
            made = generator(z).float().reshape(size, -1).numpy()
            if out is None:
                out = np.empty((count, made.shape[1]), dtype=np.float32)
            out[start : start + size] = made
    return out


def npy_bytes(array) -> bytes:
    """``array`` as the bytes of a ``.npy`` file (no pickled objects)."""
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
