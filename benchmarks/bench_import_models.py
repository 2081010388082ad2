"""Importing the models people use, as their libraries ship them (issue 14's measure).

    /work/side/bin/python benchmarks/bench_import_models.py [--only NAME ...] [--keep DIR]

Needs timm, torchvision, segmentation-models-pytorch, vit-pytorch and x-transformers,
which stay out of the project's environment. A side environment that has them (torch
2.13 CPU; the registry's torchvision is a CUDA build, see PITFALLS 19)::

    python3 -m venv /work/side
    /work/side/bin/pip install torch==2.13.0 && /work/side/bin/pip install -e .
    /work/side/bin/pip install --no-deps timm==1.0.31 torchvision==0.28.0 \\
        segmentation-models-pytorch vit-pytorch x-transformers einops safetensors \\
        pyyaml tqdm loguru einx frozendict torch-einops-utils
    /work/side/bin/pip install "huggingface_hub<1"

For each model, each step in its own process with a time limit: ``deepwire import
models.py:NAME --input-shape ... [--input-dtype int64] -o NAME.dwire --weights-out
NAME.safetensors`` (timed), ``deepwire code NAME.dwire``, then the printed class is loaded with those weights and
compared with the model in eval mode on one random batch of 2: the parameter counts must
be equal and the outputs within 1e-4. Each model is built by a zero-argument factory
after ``torch.manual_seed(0)``, so the importer's process and the comparing one build the
same weights; batch-norm statistics and constant parameters (zero-initialised last
norms, layer scales, class tokens) are then drawn at random, so that no branch hides
behind a zero. Run without those libraries (as ``make bench`` does), it says so and
exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300
TOLERANCE = 1e-4
LIBRARIES = {
    "timm": "timm",
    "torchvision": "torchvision",
    "segmentation_models_pytorch": "segmentation-models-pytorch",
    "vit_pytorch": "vit-pytorch",
    "x_transformers": "x-transformers",
    "safetensors": "safetensors",
}
CODE_OPTIONS = ("--class-name", "Imported", "-o")
VOCABULARY = 256  # the token model's num_tokens: its ids are drawn below it

# name -> (import line, expression that builds the model, one sample's shape, "float" or "long")
MODELS = {
    "tv_resnet18": ("import torchvision", "torchvision.models.resnet18()", "3,64,64", "float"),
    "tv_resnet50": ("import torchvision", "torchvision.models.resnet50()", "3,64,64", "float"),
    "tv_mobilenet_v2": (
        "import torchvision",
        "torchvision.models.mobilenet_v2()",
        "3,64,64",
        "float",
    ),
    "tv_mobilenet_v3_small": (
        "import torchvision",
        "torchvision.models.mobilenet_v3_small()",
        "3,64,64",
        "float",
    ),
    "tv_efficientnet_b0": (
        "import torchvision",
        "torchvision.models.efficientnet_b0()",
        "3,64,64",
        "float",
    ),
    "tv_densenet121": (
        "import torchvision",
        "torchvision.models.densenet121()",
        "3,64,64",
        "float",
    ),
    "tv_regnet_y_400mf": (
        "import torchvision",
        "torchvision.models.regnet_y_400mf()",
        "3,64,64",
        "float",
    ),
    "tv_convnext_tiny": (
        "import torchvision",
        "torchvision.models.convnext_tiny()",
        "3,64,64",
        "float",
    ),
    "tv_vit_small": (
        "from torchvision.models.vision_transformer import VisionTransformer",
        "VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=3, "
        "hidden_dim=192, mlp_dim=768, num_classes=10)",
        "3,64,64",
        "float",
    ),
    "tv_vgg11": ("import torchvision", "torchvision.models.vgg11()", "3,64,64", "float"),
    "tv_squeezenet1_0": (
        "import torchvision",
        "torchvision.models.squeezenet1_0()",
        "3,64,64",
        "float",
    ),
    "timm_resnet50": ("import timm", "timm.create_model('resnet50')", "3,64,64", "float"),
    "timm_mobilenetv3_large_100": (
        "import timm",
        "timm.create_model('mobilenetv3_large_100')",
        "3,64,64",
        "float",
    ),
    "timm_efficientnet_b0": (
        "import timm",
        "timm.create_model('efficientnet_b0')",
        "3,64,64",
        "float",
    ),
    "timm_convnext_atto": (
        "import timm",
        "timm.create_model('convnext_atto')",
        "3,64,64",
        "float",
    ),
    "timm_vit_tiny_patch16_224": (
        "import timm",
        "timm.create_model('vit_tiny_patch16_224')",
        "3,224,224",
        "float",
    ),
    "timm_regnety_002": ("import timm", "timm.create_model('regnety_002')", "3,64,64", "float"),
    "smp_unet_resnet18": (
        "import segmentation_models_pytorch as smp",
        "smp.Unet('resnet18', encoder_weights=None)",
        "3,64,64",
        "float",
    ),
    "vitpytorch_vit": (
        "from vit_pytorch import ViT",
        "ViT(image_size=64, patch_size=16, num_classes=10, dim=64, depth=2, heads=4, mlp_dim=128)",
        "3,64,64",
        "float",
    ),
    "xtransformers_decoder": (
        "from x_transformers import Decoder, TransformerWrapper",
        f"TransformerWrapper(num_tokens={VOCABULARY}, max_seq_len=32, "
        "attn_layers=Decoder(dim=64, depth=2, heads=4))",
        "16",
        "long",
    ),
}

MODELS_HEADER = '''"""The models of bench_import_models.py, each a class whose call builds the shipped model."""

import sys
import types

# The registry's torchvision is a CUDA build: without its operator registrations (which
# need CUDA torch) its model code still runs on the CPU torch.
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)

import torch


def shipped(factory):
    """A zero-argument torch.nn.Module class whose call returns ``factory()``'s model
    itself (not a wrapper, so module paths and state_dict keys are the library's)."""

    def build(cls):
        torch.manual_seed(0)
        return unzero(factory().eval())

    return type(factory.__name__, (torch.nn.Module,), {"__new__": build})


@torch.no_grad()
def unzero(model):
    """Random batch-norm statistics and random values for constant parameters."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(getattr(module, "running_var", None), torch.Tensor):
            module.running_mean.copy_(0.1 * torch.randn(module.running_mean.shape, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=generator))
    for parameter in model.parameters():
        if parameter.numel() > 1 and bool((parameter == parameter.flatten()[0]).all()):
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
    return model
'''


def models_source(names: list[str]) -> str:
    """The models file: the header, then one ``shipped`` factory per model."""
    parts = [MODELS_HEADER]
    for name in names:
        imports, expression, _, _ = MODELS[name]
        parts.append(f"\n\n@shipped\ndef {name}():\n    {imports}\n\n    return {expression}\n")
    return "".join(parts)


def run_step(command: list[str], folder: Path, deepwire: Path) -> tuple[bool, str, float]:
    """Run one step; return (succeeded, the first line it printed on failure, seconds)."""
    env = {**os.environ, "PYTHONPATH": str(deepwire), "OMP_NUM_THREADS": "2"}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return False, f"timed out after {TIMEOUT} s", time.perf_counter() - start
    seconds = time.perf_counter() - start
    if done.returncode == 0:
        return True, done.stdout, seconds
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    said = next((line for line in lines if line.startswith("deepwire:")), None)
    return False, (said or (lines[-1] if lines else f"exit status {done.returncode}")), seconds


def measure(name: str, folder: Path, deepwire: Path) -> dict:
    """Import, print the code, load and compare one model; return its table row."""
    _, _, shape, dtype = MODELS[name]
    python = [sys.executable]
    dtype_option = ["--input-dtype", "int64"] if dtype == "long" else []
    for stale in (f"{name}.dwire", f"{name}.dwire.bak", f"{name}.safetensors", f"{name}_code.py"):
        (folder / stale).unlink(missing_ok=True)  # a kept folder's last run
    row = {"model": name, "status": "OK", "params": "", "diff": "", "seconds": "", "said": ""}
    ok, said, seconds = run_step(
        [
            *python,
            *("-m", "engine", "import", f"models.py:{name}", "--input-shape", shape),
            *dtype_option,
            *("-o", f"{name}.dwire", "--weights-out", f"{name}.safetensors"),
        ],
        folder,
        deepwire,
    )
    row["seconds"] = f"{seconds:.1f}"
    if not ok:
        return {**row, "status": "FAIL import", "said": said}
    ok, said, _ = run_step(
        [*python, "-m", "engine", "code", f"{name}.dwire", *CODE_OPTIONS, f"{name}_code.py"],
        folder,
        deepwire,
    )
    if not ok:
        return {**row, "status": "FAIL code", "said": said}
    ok, said, _ = run_step(
        [*python, str(Path(__file__).resolve()), "--compare", name], folder, deepwire
    )
    if not ok:
        return {**row, "status": "FAIL load", "said": said}
    result = json.loads(said.strip().splitlines()[-1])
    row["params"] = f"{result['params']:,}"
    row["diff"] = "" if result["diff"] is None else f"{result['diff']:.1e}"
    problems = []
    if result["params"] != result["params_imported"]:
        problems.append(f"the printed class has {result['params_imported']:,} parameters")
    if result["shape"] != result["shape_imported"]:
        problems.append(f"output {result['shape_imported']}, the model's {result['shape']}")
    elif result["diff"] is None or not result["diff"] <= TOLERANCE:
        problems.append(f"outputs differ by {result['diff']}")
    if problems:
        return {**row, "status": "FAIL diff", "said": "; ".join(problems)}
    return row


def compare(name: str) -> None:
    """In the model's folder: print the comparison of the model and its printed class as JSON."""
    import torch
    from safetensors.torch import load_file

    torch.set_num_threads(2)
    sys.path.insert(0, os.getcwd())
    models = importlib.import_module("models")
    printed = importlib.import_module(f"{name}_code")
    model = getattr(models, name)()
    imported = printed.Imported().eval()
    imported.load_state_dict(load_file(f"{name}.safetensors"), strict=True)
    _, _, shape, dtype = MODELS[name]
    sizes = (2, *(int(s) for s in shape.split(",")))
    generator = torch.Generator().manual_seed(0)
    if dtype == "long":
        batch = torch.randint(0, VOCABULARY, sizes, generator=generator)
    else:
        batch = torch.randn(sizes, generator=generator)
    with torch.no_grad():
        want, got = first_tensor(model(batch)), first_tensor(imported(batch))
    same_shape = tuple(want.shape) == tuple(got.shape)
    diff = float((want - got).abs().max()) if same_shape else None
    print(
        json.dumps(
            {
                "params": sum(p.numel() for p in model.parameters()),
                "params_imported": sum(p.numel() for p in imported.parameters()),
                "shape": list(want.shape),
                "shape_imported": list(got.shape),
                "diff": diff,
            }
        )
    )


def first_tensor(output):
    """The model's output tensor (the first one of a tuple, list or dict)."""
    while not hasattr(output, "shape"):
        output = next(iter(output.values())) if isinstance(output, dict) else output[0]
    return output


def print_table(rows: list[dict]) -> None:
    """The rows as aligned columns, the sentence last and cut to 200 characters."""
    header = {"model": "model", "status": "result", "params": "params", "diff": "max diff"}
    header |= {"seconds": "import s", "said": "first line Deepwire printed"}
    table = [header, *rows]
    keys = ["model", "status", "params", "diff", "seconds"]
    widths = {k: max(len(str(r[k])) for r in table) for k in keys}
    for row in table:
        cells = [str(row[k]).ljust(widths[k]) for k in keys]
        print("  ".join(cells), " ", str(row["said"])[:200])


def missing_libraries() -> list[str]:
    """The pip names of the libraries this benchmark needs and cannot find."""
    return [pip for module, pip in LIBRARIES.items() if importlib.util.find_spec(module) is None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), help="measure these models")
    parser.add_argument(
        "--keep",
        help="leave the models, projects, code and results.json (whole sentences) in this folder",
    )
    parser.add_argument(
        "--deepwire", default=str(ROOT), help="the Deepwire checkout to measure (default: this one)"
    )
    parser.add_argument("--compare", help=argparse.SUPPRESS)  # one model, in its own process
    args = parser.parse_args()
    if args.compare:
        compare(args.compare)
        return
    missing = missing_libraries()
    if missing:
        print(
            f"bench_import_models: skipped, this Python lacks {', '.join(missing)}; run it with "
            "a side environment that has them (see this file's docstring for how to make one)"
        )
        return
    names = args.only or list(MODELS)
    with tempfile.TemporaryDirectory(prefix="deepwire-models-") as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "models.py").write_text(models_source(names))
        rows = []
        for name in names:
            rows.append(measure(name, folder, Path(args.deepwire).resolve()))
            print(f"{name}: {rows[-1]['status']}", file=sys.stderr, flush=True)
        if args.keep:  # the table cuts sentences; the kept folder has them whole
            (folder / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    print_table(rows)
    print(f"{sum(r['status'] == 'OK' for r in rows)} of {len(rows)} imported")


if __name__ == "__main__":
    main()
