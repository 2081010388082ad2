"""Import a PyTorch model as a Deepwire network: ``import_model("model.py:Net")``.

The model class is loaded from a Python file (``path/model.py:Net``, which runs that
file: import only code you trust) or an importable module (``package.module:Net``),
built with no arguments and traced with torch.fx, torch.nn layers and their subclasses
kept as calls. The traced graph is mapped onto the catalogue by ``engine.import_rules``:
placeholders become Inputs (their shapes come from the caller or from example inputs),
modules and functions become layers, the returned values become Outputs; nodes are laid
out left to right. A subclass with a forward of its own (timm's ``BatchNormAct2d``) is
first run against its base layer, alone or followed by its parts (``act``); one that
computes neither has its forward read line by line instead.

Nothing is guessed silently. Whatever cannot be mapped is listed by name in one
``ImportModelError``; each mapped module is rebuilt from the network and compared with
the original, and the whole imported network is run against the model on an example
input with the model's weights, so an import that succeeds computes what the model
computes. ``deepwire code`` output imports back to the network it came from.

Importing runs the model's code. A ``sys.exit`` in it ends in an ``ImportModelError``;
``os._exit`` or a crash cannot be caught in the process that runs it, so
``deepwire import`` runs this in a child process (``engine.commands.importing``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import DeepwireError
from engine.import_report import grouped
from engine.import_rewrites import batch_first
from engine.import_rules import (
    CHANNELS_LAST,
    Plan,
    Planned,
    catalogue_index,
    composite_parts,
    leaf_tracer,
    overrides_forward,
    plan_graph,
    subclass_leaves,
)
from engine.import_shapes import fold_shapes, reads_sizes
from engine.naming import check_id, suggest_id
from engine.network import Network
from engine.progress import stage

TOLERANCE = 1e-4
NO_EFFECT = ("inplace",)  # module settings that change no result


class ImportModelError(DeepwireError):
    """A PyTorch model cannot be turned into a Deepwire network."""


@dataclass
class ImportResult:
    """What ``import_model`` made.

    Attributes:
        network: the network, laid out left to right.
        weights: the model's tensors keyed like the compiled network's state_dict
            (``<node id>.<tensor>``), ready for ``engine.weights.load_weights``.
        class_name: the imported class's name.
    """

    network: Network
    weights: dict
    class_name: str


def import_model(
    source: str | Any,
    input_shapes: Mapping[str, Sequence[int]] | Sequence[Sequence[int]] | None = None,
    example_inputs: Sequence | None = None,
    name: str = "model",
    model_weights: str | Path | Mapping | None = None,
    input_dtypes: Mapping[str, str] | Sequence[str] | str | None = None,
    progress=None,
) -> ImportResult:
    """Turn a torch.nn.Module into a network of catalogue layers.

    Args:
        source: ``"file.py:Class"``, ``"package.module:Class"``, a module class, or an
            instance; a function called without arguments that returns the model
            (``"torchvision.models:resnet18"``) stands for a class.
        input_shapes: the shape of one sample of each forward argument, without the
            batch: a list in argument order, or a dict by argument name.
        example_inputs: tensors with a batch dimension, one per forward argument;
            their shapes and dtypes are used when ``input_shapes`` is not given.
        name: the network's name.
        model_weights: a state_dict of the model (file or dict, keyed as the model's
            own ``state_dict``) loaded before import, e.g. trained weights to fine-tune.
        input_dtypes: ``"float32"`` or ``"int64"`` (token ids) for every input, or one
            per input (in order, or by name); by default int64 where an input feeds an
            embedding, else float32. Token examples are drawn below the smallest
            embedding's size.
        progress: called with ``engine.progress.Progress`` as each stage starts
            (running the model's code, tracing it, checking the outputs...).

    Raises:
        ImportModelError: the class cannot be loaded or traced, some of its modules or
            functions have no Deepwire layer (all named), the result differs, or the
            model's code called ``sys.exit``.
    """
    try:
        inputs = _Inputs(input_shapes, input_dtypes, example_inputs)
        return _import_model(source, inputs, name, model_weights, progress)
    except SystemExit as stop:  # the user's code ran (file, constructor, forward)
        what = f"called sys.exit({stop.code!r})"
        raise ImportModelError(exit_sentence(_label(source), what)) from None


def exit_sentence(source: str, what: str) -> str:
    """The sentence for model code that ended the program while it was being imported."""
    return (
        f"{source} {what} while Deepwire ran it to import the model, so nothing was "
        "imported; a model file must not end the program when it is imported (put such "
        'code under `if __name__ == "__main__":`)'
    )


def _label(source) -> str:
    if isinstance(source, str):
        return source.rpartition(":")[0] or source
    return getattr(source, "__name__", type(source).__name__)


@dataclass
class _Inputs:
    """What the caller said about the model's inputs (see ``import_model``)."""

    shapes: Any
    dtypes: Any
    examples: Any
    id_limit: int = 2  # token examples are drawn from range(id_limit)


def _import_model(source, inputs: _Inputs, name, model_weights, progress) -> ImportResult:
    import torch

    stage(progress, "running the model's code")
    model = load_model(source)
    label = type(model).__name__
    if model_weights is not None:
        stage(progress, "loading the model's weights")
        _load_model_weights(model, model_weights, label)
    tables = [m.num_embeddings for m in model.modules() if isinstance(m, torch.nn.Embedding)]
    inputs.id_limit = min(tables, default=2)
    leaves = subclass_leaves(model)
    stage(progress, "tracing the model with torch.fx")
    traced = _trace(model, leaves, frozenset(), label, inputs)
    plan = plan_graph(traced)
    examples, read_through, parts = None, [], None
    suspects = _suspects(traced, leaves)
    if suspects:
        stage(progress, "checking the model's own subclasses of torch.nn layers")
        examples = _examples_or_unmapped(plan, inputs, label)
        parts, read_through = _check_subclasses(model, suspects, examples)
        if read_through:
            through = frozenset(id(module) for module in read_through)
            traced = _trace(model, leaves, through, label, inputs)
        plan = plan_graph(traced, parts)
    if reads_sizes(traced):
        stage(progress, "reading the sizes the model computes")
        examples = examples or _examples_or_unmapped(plan, inputs, label)
        if fold_shapes(traced, examples, {u.node for u in plan.unmapped}):
            plan = plan_graph(traced, parts)
    if plan.unmapped:
        raise ImportModelError(_unmapped_sentence(plan, label, read_through))
    if examples is None:
        examples = _example_inputs(plan, inputs)
    stage(progress, "building the network")
    network, ids = _build(plan, examples, name)
    _check_modules(network, plan, ids, label)
    weights = _weights(plan, ids)
    stage(progress, "grouping the model's modules into blocks")
    grouped = _as_blocks(network, weights, plan, ids, traced, progress)
    stage(progress, "checking the outputs against the model")
    if grouped is not None:
        try:
            _check_outputs(*grouped, model, examples, label)
            return ImportResult(*grouped, label)
        except ImportModelError:
            pass  # the flat network is checked next, and kept if it is right
    _check_outputs(network, weights, model, examples, label)
    return ImportResult(network, weights, label)


def _as_blocks(network: Network, weights: dict, plan: Plan, ids: dict, traced, progress):
    """The network with the model's module hierarchy as blocks (engine.import_blocks)
    and its weights under the nested names; None when no module makes a block."""
    from engine.import_blocks import group_modules
    from engine.layout import lay_out

    paths, classes = _module_paths(plan, ids, traced)
    grouped = Network.from_dict(network.to_dict(), network.name)
    where = group_modules(grouped, paths, classes, progress)
    if not where:
        return None
    lay_out(grouped)
    for block_type in grouped.library:
        lay_out(block_type.network)
    nested = {}
    for key, tensor in weights.items():
        node_id, _, rest = key.partition(".")
        nested[f"{where.get(node_id, node_id)}.{rest}"] = tensor
    return grouped, nested


def _module_paths(plan: Plan, ids: dict, traced) -> tuple[dict, dict]:
    """For each node id, the path of the innermost module whose forward made it, and
    the class name of every module on the way (from fx's ``nn_module_stack``)."""
    paths, classes, seen = {}, {}, set()
    for fx_node in traced.graph.nodes:
        planned = plan.alias.get(fx_node)
        if planned is None or id(planned) in seen or id(planned) not in ids:
            continue
        seen.add(id(planned))
        stack = fx_node.meta.get("nn_module_stack") or {}
        keys = list(stack)
        if fx_node.op == "call_module" and keys and keys[-1] == fx_node.target:
            keys = keys[:-1]  # the layer's own module is the node, not a block
        for key in keys:
            kind = stack[key][1]
            classes[key] = getattr(kind, "__name__", str(kind).rpartition(".")[2])
        paths[ids[id(planned)]] = keys[-1] if keys else ""
    return paths, classes


def _trace(model, leaves: set[type], through: frozenset[int], label: str, inputs: _Inputs):
    """The model's fx graph, torch.nn layers and their subclasses (``leaves``) kept as calls.

    ``forward``'s arguments with defaults that are not inputs keep their defaults
    (``mask=None``), so that code testing them (``if mask is not None``) traces.
    """
    import torch.fx

    tracer = leaf_tracer(leaves, through)
    fixed = _fixed_arguments(model, inputs)
    try:
        graph = tracer.trace(model, concrete_args=fixed)
    except Exception as error:  # tracing user code can fail in many ways
        raise ImportModelError(
            f"cannot trace {label}: {_user_line(error)}{type(error).__name__}: "
            f"{_first_line(error)} (torch.fx follows forward without real tensors, so Python "
            "code that branches on a tensor's values or sizes, or asks for them as numbers, "
            "stops it; write such code with torch operations, or import the model's ONNX "
            "export instead)"
        ) from None
    _drop_fixed(graph, fixed)
    traced = torch.fx.GraphModule(tracer.root, graph, label)
    traced.graph.eliminate_dead_code()
    batch_first(traced)
    return traced


def _drop_fixed(graph, fixed: dict) -> None:
    """Remove the placeholders fx makes for fixed arguments, and its checks of them."""
    prefixes = tuple(f"{name}_" for name in fixed)
    if not prefixes:
        return
    found = set()
    for node in graph.nodes:
        if node.op == "placeholder" and str(node.target).startswith(prefixes):
            found.add(node)
        elif node.op != "output" and node.all_input_nodes and set(node.all_input_nodes) <= found:
            found.add(node)  # a check of a fixed value, or something computed from one
    for node in reversed(list(graph.nodes)):
        if node in found and all(user in found for user in node.users):
            graph.erase_node(node)


def _fixed_arguments(model, inputs: _Inputs) -> dict:
    """forward's defaulted arguments after those the caller gives inputs for."""
    import inspect

    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    given = inputs.examples if inputs.examples is not None else inputs.shapes
    if isinstance(given, Mapping):
        named = set(given)
        taken = lambda index, p: p.name in named  # noqa: E731
    else:
        count = len(given) if given is not None else 0
        taken = lambda index, p: index < count  # noqa: E731
    return {
        p.name: p.default
        for index, p in enumerate(parameters)
        if p.kind in kinds and p.default is not inspect.Parameter.empty and not taken(index, p)
    }


def _user_line(error: Exception) -> str:
    """``model.py:42 `if x.shape[1] > 3:`: `` for the last line of the model's own code
    in the error's traceback (not torch's), or ''."""
    import traceback

    import torch

    torch_dir = str(Path(torch.__file__).parent)
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if not f.filename.startswith(torch_dir)
        and not f.filename.startswith(str(Path(__file__).parent))
    ]
    if not frames:
        return ""
    frame = frames[-1]
    code = f" `{frame.line.strip()}`" if frame.line else ""
    return f"{Path(frame.filename).name}:{frame.lineno}{code}: "


def _unmapped_sentence(plan: Plan, label: str, read_through: list) -> str:
    causes, nouns = {}, {}
    for unmapped in plan.unmapped:
        causes.setdefault(unmapped.cause, []).append(unmapped.place)
        nouns[unmapped.cause] = unmapped.noun
    listed = grouped(causes, nouns.get)
    sentence = f"cannot import {label}: no Deepwire layer for {listed}"
    if read_through:
        names = sorted({type(module).__name__ for module in read_through})
        sentence += (
            f" ({', '.join(names)} subclass torch.nn layers but compute something else, so "
            "their forward was read instead)"
        )
    return sentence


def _suspects(traced, leaves: set[type]) -> dict[str, Any]:
    """Subclass modules called in the graph whose forward is their own: path -> module."""
    found = {}
    for node in traced.graph.nodes:
        if node.op == "call_module":
            module = traced.get_submodule(node.target)
            if type(module) in leaves and overrides_forward(module):
                found[node.target] = module
    return found


def _examples_or_unmapped(plan: Plan, inputs: _Inputs, label: str) -> list:
    """The example inputs; when they cannot be made, what cannot be mapped comes first."""
    try:
        return _example_inputs(plan, inputs)
    except ImportModelError:
        if plan.unmapped:
            raise ImportModelError(_unmapped_sentence(plan, label, [])) from None
        raise


def _check_subclasses(model, suspects: dict, examples: list) -> tuple[dict, list]:
    """Which subclasses compute their base layer, alone or followed by their parts.

    Runs the model once and each suspect's base forward (then its ``composite_parts``)
    on what the suspect received. Returns the parts of those that agree, by path, and
    the modules that agree with neither, whose code is then read instead.
    """
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            calls = _record_calls(model, suspects, examples)
            return _agreeing(suspects, calls)
    finally:
        model.train(was_training)


def _agreeing(suspects: dict, calls: dict) -> tuple[dict, list]:
    parts, read_through = {}, []
    for target, module in suspects.items():
        if target not in calls:
            continue
        args, kwargs, want = calls[target]
        _, base = catalogue_index().module_spec(type(module))
        candidates = [*dict.fromkeys([composite_parts(module), ()])]
        if args and hasattr(args[0], "dim") and args[0].dim() >= 3 and not kwargs:
            candidates.append((f"{CHANNELS_LAST}{args[0].dim()}",))
        for candidate in candidates:
            try:
                got = _base_forward(module, base, candidate, args, kwargs)
            except Exception:  # the base forward does not fit what the subclass gets
                continue
            if _same_values(got, want):
                parts[target] = candidate
                break
        else:
            read_through.append(module)
    return parts, read_through


def _base_forward(module, base, parts: tuple, args, kwargs):
    """What ``module`` computes as its base layer followed by ``parts``; or, for
    ``CHANNELS_LAST``, as its base layer on the channels moved last and back (timm's and
    torchvision's LayerNorm2d)."""
    if parts and parts[0].startswith(CHANNELS_LAST):
        return base.forward(module, args[0].movedim(1, -1)).movedim(-1, 1)
    got = base.forward(module, *args, **kwargs)
    for part in parts:
        got = module.get_submodule(part)(got)
    return got


def _record_calls(model, suspects: dict, examples: list) -> dict:
    """Run the model; the first (args, kwargs, output) of each suspect."""
    calls, handles = {}, []

    def recorder(target):
        def hook(module, args, kwargs, output):
            if target not in calls:
                calls[target] = (_cloned(args), _cloned(kwargs), _cloned(output))

        return hook

    for target, module in suspects.items():
        handles.append(module.register_forward_hook(recorder(target), with_kwargs=True))
    try:
        model(*examples)
    except Exception:  # reported by the check of the whole network, with the model's words
        pass
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _cloned(value):
    """Tensors copied out of reach of later in-place operations, in the same structure."""
    if hasattr(value, "clone"):
        return value.clone()
    if isinstance(value, tuple | list):
        return type(value)(_cloned(v) for v in value)
    if isinstance(value, dict):
        return {k: _cloned(v) for k, v in value.items()}
    return value


def _same_values(got, want) -> bool:
    import torch

    if isinstance(want, torch.Tensor):
        return (
            isinstance(got, torch.Tensor)
            and got.shape == want.shape
            and torch.allclose(got, want, atol=TOLERANCE, rtol=TOLERANCE)
        )
    if isinstance(want, tuple | list):
        return (
            isinstance(got, tuple | list)
            and len(got) == len(want)
            and all(_same_values(g, w) for g, w in zip(got, want))
        )
    return got == want


def load_model(source: str | Any):
    """An instance of the model named by ``source`` (see ``import_model``)."""
    import torch

    if isinstance(source, torch.nn.Module):
        return source
    if callable(source):
        make, name = source, getattr(source, "__name__", repr(source))
    else:
        make, name = _load_class(str(source)), str(source).rpartition(":")[2]
    is_class = isinstance(make, type)
    if (is_class and not issubclass(make, torch.nn.Module)) or not callable(make):
        raise ImportModelError(
            f"{name} is not a torch.nn.Module class or a function that makes one"
        )
    try:
        model = make()
    except Exception as error:  # the user's constructor or factory
        raise ImportModelError(
            f"{name}() failed ({type(error).__name__}: {_first_line(error)}); the "
            f"{'class' if is_class else 'function'} must be callable without arguments"
        ) from None
    if not isinstance(model, torch.nn.Module):
        raise ImportModelError(f"{name}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model


def _load_model_weights(model, source, label: str) -> None:
    from engine.weights import describe_problems, read_weights, weight_problems

    state = read_weights(source) if isinstance(source, str | Path) else dict(source)
    problems = weight_problems(model.state_dict(), state, "model")
    if problems:
        name = Path(source).name if isinstance(source, str | Path) else "the weights"
        raise ImportModelError(describe_problems(problems, name, f"model {label}"))
    model.load_state_dict(state, strict=True)


def _load_class(source: str):
    where, sep, class_name = source.rpartition(":")
    if not sep or not where or not class_name:
        raise ImportModelError(
            f"{source!r}: name the model as file.py:ClassName or package.module:ClassName "
            "(or a function that makes it, e.g. torchvision.models:resnet18)"
        )
    if where.endswith(".py") or "/" in where or "\\" in where:
        module = _run_file(Path(where))
    else:
        try:
            module = importlib.import_module(where)
        except Exception as error:
            raise ImportModelError(
                f"cannot import {where} ({type(error).__name__}: {_first_line(error)})"
            ) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        import torch

        found = sorted(
            k
            for k, v in vars(module).items()
            if isinstance(v, type)
            and issubclass(v, torch.nn.Module)
            and v.__module__ == module.__name__
        )
        hint = f" (it defines: {', '.join(found)})" if found else ""
        raise ImportModelError(f"{where} has no class or function {class_name}{hint}")
    return cls


def _run_file(path: Path):
    if not path.is_file():
        raise ImportModelError(f"{path}: no such file")
    module_name = f"_deepwire_import_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and fx look classes up here
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's file
        sys.modules.pop(module_name, None)
        raise ImportModelError(
            f"{path.name} failed to run ({type(error).__name__}: {_first_line(error)})"
        ) from None
    return module


def _example_inputs(plan: Plan, inputs: _Inputs) -> list:
    """One example tensor per Input, with a batch of 2."""
    import torch

    planned_inputs = [p for p in plan.nodes if p.type == "Input"]
    if inputs.examples is not None:
        examples = list(inputs.examples)
        if len(examples) != len(planned_inputs):
            raise ImportModelError(
                f"the model takes {len(planned_inputs)} input(s) but {len(examples)} "
                "example(s) were given"
            )
        return [torch.as_tensor(e) for e in examples]
    if inputs.shapes is None:
        names = ", ".join(p.name for p in planned_inputs)
        raise ImportModelError(
            f"give the shape of one sample of each input ({names}), without the batch, "
            "e.g. --input-shape 1,28,28"
        )
    shapes = _per_input(inputs.shapes, planned_inputs, "shape")
    dtypes = _per_input(inputs.dtypes, planned_inputs, "dtype")
    result = []
    generator = torch.Generator().manual_seed(0)
    for planned, shape, dtype in zip(planned_inputs, shapes, dtypes):
        shape = (2, *(int(s) for s in shape))
        if dtype is None:
            dtype = "int64" if _takes_ids(plan, planned) else "float32"
        if check_input_dtype(dtype, f"input {planned.name!r}") == "int64":
            result.append(torch.randint(inputs.id_limit, shape, generator=generator))
        else:
            result.append(torch.randn(shape, generator=generator))
    return result


def check_input_dtype(dtype: str, where: str) -> str:
    """``dtype`` if an Input can take it; ImportModelError naming ``where`` otherwise."""
    from engine.layers import CATALOGUE

    if dtype not in CATALOGUE["Input"].param("dtype").choices:
        raise ImportModelError(
            f"{where}: dtype {dtype!r} is not one Deepwire's inputs take; use float32 "
            "(measurements, pixels) or int64 (token or class ids)"
        )
    return dtype


def _per_input(given, planned_inputs: list, what: str) -> list:
    """``given`` (one value, a list in order or a dict by name) as one value per input."""
    if given is None or isinstance(given, str):
        return [given] * len(planned_inputs)
    if isinstance(given, Mapping):
        missing = [p.name for p in planned_inputs if p.name not in given]
        if missing and what == "shape":
            raise ImportModelError(f"no shape given for input {missing[0]!r}")
        unknown = sorted(set(given) - {p.name for p in planned_inputs})
        if unknown:
            names = ", ".join(p.name for p in planned_inputs)
            raise ImportModelError(f"the model has no input {unknown[0]!r} (its inputs: {names})")
        return [given.get(p.name) for p in planned_inputs]
    if len(given) != len(planned_inputs):
        raise ImportModelError(
            f"the model takes {len(planned_inputs)} input(s) but {len(given)} {what}(s) were given"
        )
    return list(given)


def _takes_ids(plan: Plan, planned: Planned) -> bool:
    from engine.layers import CATALOGUE

    for other in plan.nodes:
        feeds = any(plan.alias.get(i) is planned for i in other.inputs)
        if feeds and CATALOGUE[other.type].input_dtype == "long":
            return True
    return False


def _build(plan: Plan, examples: list, name: str) -> tuple[Network, dict]:
    """The network of the plan; returns it and the Planned -> node id map."""
    import torch

    from engine.layout import lay_out

    network = Network(name)
    ids: dict[int, str] = {}
    taken: set[str] = set()
    input_index = 0
    for planned in plan.nodes:
        node_id = _fresh_id(planned.name, taken)
        ids[id(planned)] = node_id
        params = dict(planned.params)
        if planned.type == "Input":
            example = examples[input_index]
            input_index += 1
            params["shape"] = list(example.shape[1:])
            params["dtype"] = "int64" if example.dtype == torch.long else "float32"
        network.add_node(planned.type, params, node_id=node_id, check=False)
    outputs = plan.outputs
    for index, value in enumerate(outputs, start=1):
        out_id = _fresh_id("output" if len(outputs) == 1 else f"output{index}", taken)
        network.add_node("Output", node_id=out_id)
        network.connect(ids[id(plan.alias[value])], "out", out_id, "in")
    for planned in plan.nodes:
        node = network.node(ids[id(planned)])
        ports = node.input_ports()
        if len(ports) != len(planned.inputs):
            raise ImportModelError(
                f"{planned.name} ({planned.type}) takes {len(ports)} input(s) but is given "
                f"{len(planned.inputs)}"
            )
        for port, value in zip(ports, planned.inputs):
            network.connect(ids[id(plan.alias[value])], "out", node.id, port)
    lay_out(network)
    return network, ids


def _fresh_id(candidate: str, taken: set[str]) -> str:
    try:
        node_id = check_id(candidate)
    except DeepwireError:
        node_id = suggest_id(candidate, taken)
    if node_id in taken:
        node_id = suggest_id(node_id, taken)
    taken.add(node_id)
    return node_id


def _check_modules(network: Network, plan: Plan, ids: dict, label: str) -> None:
    """Each module rebuilt from the network must equal the model's; else name the difference."""
    import torch

    from engine.analysis import analyze
    from engine.compile import build_module

    analysis = analyze(network)
    if analysis.errors:
        raise ImportModelError(
            f"imported {label}, but the network does not check: {analysis.errors[0].message}"
        )
    problems: dict[str, list[str]] = {}
    for planned in plan.nodes:
        if planned.module is None:
            continue
        node = network.node(ids[id(planned)])
        inputs = [analysis.shapes[network.wire_into(node.id, p).src] for p in node.input_ports()]
        params = node.spec.check_params(node.params)
        with torch.device("meta"):  # settings, shapes and dtypes only: no memory, no init
            rebuilt = build_module(*node.spec.module(params, inputs))
        difference = _difference(planned.module, rebuilt, {p.name for p in node.spec.params})
        if difference:
            kind = planned.class_name or type(planned.module).__name__
            problems.setdefault(f"{kind} ({difference})", []).append(planned.target)
    if problems:
        raise ImportModelError(
            f"cannot import {label}: Deepwire's layers differ for {grouped(problems, 'module')}"
        )


def _difference(original, rebuilt, settings: set[str]) -> str:
    """The first setting or tensor where two modules differ, in words, or ''.

    ``settings`` are the LayerSpec's parameter names; any other attribute (``in_features``)
    is a size Deepwire infers from the input shape, and is worded that way.
    """
    simple = (bool, int, float, str, tuple, type(None))
    for (path, mine), (_, theirs) in zip(original.named_modules(), rebuilt.named_modules()):
        if type(mine).__qualname__ != type(theirs).__qualname__:  # Deepwire's own, copied
            return (
                f"{path or 'it'} is {type(mine).__name__}, Deepwire builds {type(theirs).__name__}"
            )
        for key, value in vars(mine).items():
            if key.startswith("_") or key in ("training", *NO_EFFECT):
                continue
            if not isinstance(value, simple) or not hasattr(theirs, key):
                continue  # not a setting, or one of a subclass, which its base ignores
            other = getattr(theirs, key)
            if _same_setting(value, other):
                continue
            if not path and key not in settings and _is_size(value):
                return f"expects {key} {value!r} but gets {other!r} from the input shape; check it"
            where = f"{path}.{key}" if path else key
            return f"{where} is {value!r}, Deepwire's layer uses {other!r}"
    mine, theirs = original.state_dict(), rebuilt.state_dict()
    for key in sorted(mine.keys() | theirs.keys()):
        if key not in mine or key not in theirs or mine[key].shape != theirs[key].shape:
            return f"its tensor {key} differs"
        if mine[key].dtype != theirs[key].dtype:
            return (
                f"its tensor {key} is {mine[key].dtype}, Deepwire's layer uses {theirs[key].dtype}"
            )
    return ""


def _same_setting(a, b) -> bool:
    """Equal, or one number and a tuple of it: torch's (7, 7) is 7 (an output_size)."""
    if a == b:
        return True
    if isinstance(a, tuple) != isinstance(b, tuple):
        numbers, number = (a, b) if isinstance(a, tuple) else (b, a)
        return len(set(numbers)) == 1 and numbers[0] == number and type(number) is not bool
    return False


def _is_size(value) -> bool:
    """A size such as in_features (an int) or normalized_shape (a tuple of ints)."""
    values = value if isinstance(value, tuple) else (value,)
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _weights(plan: Plan, ids: dict) -> dict:
    weights = {}
    for planned in plan.nodes:
        if planned.module is not None:
            node_id = ids[id(planned)]
            for key, tensor in planned.module.state_dict().items():
                weights[f"{node_id}.{key}"] = tensor.detach().clone()
    return weights


def _check_outputs(network: Network, weights: dict, model, examples: list, label: str) -> None:
    """Run both on the examples; raise if the imported network computes otherwise."""
    import torch

    compiled = _compiled_with(network, weights).eval()
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = _as_list(model(*examples))
            got = _as_list(compiled(*examples))
    except Exception as error:
        raise ImportModelError(
            f"{label} failed on an example input of the given shape "
            f"({type(error).__name__}: {_first_line(error)})"
        ) from None
    finally:
        model.train(was_training)
    for index, (a, b) in enumerate(zip(expected, got)):
        if a.shape != b.shape or not torch.allclose(a, b, atol=TOLERANCE, rtol=TOLERANCE):
            raise ImportModelError(
                f"the imported network computes output {index + 1} differently from {label}; "
                "this model uses something Deepwire does not reproduce"
            )


def _compiled_with(network: Network, weights: dict):
    """The compiled network holding ``weights``: built on the meta device and given
    the tensors themselves, so that no weight is allocated and initialised only to be
    overwritten (a ResNet-50 spends a second on that); built normally when the model
    keeps state the weights do not carry."""
    import torch

    from engine.compile import compile_network
    from engine.weights import load_weights

    with torch.device("meta"):
        compiled = compile_network(network)
    try:
        compiled.load_state_dict(weights, strict=True, assign=True)
    except RuntimeError:
        compiled = None
    tensors = [] if compiled is None else [*compiled.parameters(), *compiled.buffers()]
    if compiled is None or any(t.is_meta for t in tensors):
        compiled = load_weights(compile_network(network), weights)
    return compiled


def _as_list(value) -> list:
    return list(value) if isinstance(value, tuple | list) else [value]


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else "no details"
