"""The ``.dwire`` project file: load, save, format versions.

A project is indented JSON that diffs well (outline in shared/DESIGN.md): one or more
networks by name (a plain project has ``model``), the dataset and the training settings.
Version 2 adds ``blocks``: the project's block types (``engine.blocks``), each a small
network with exposed ``params``, and the node fields ``bind`` and ``expanded``. Version 1
files open unchanged; saving writes version 2. A file of a newer version is refused with
a sentence rather than half read.
Weights never go into it; they live beside it as ``.safetensors``.

Loading checks every field and raises ``ProjectError`` with a sentence naming the file
and the place (``digits.dwire: node fc2: Linear has no parameter 'out_feature'``). Saving
is atomic: the JSON goes to a temporary file in the same folder, is flushed to disk and
then renamed over the target, so a failed save leaves the old file as it was. With
``backup=True`` the file being replaced is kept beside it as ``NAME.dwire.bak`` (one
backup, also written atomically, and only once the new text is safely on disk).

Opening a file never runs code from it: it is parsed as JSON data only, files larger
than ``MAX_BYTES`` and JSON nested too deeply are refused with a ProjectError, and so are
NaN, Infinity and numbers or nesting beyond what Deepwire can hold (``engine.bounds``).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import bounds
from engine.blocks import BlockLibrary, BlockType, check_block_name
from engine.blocks.block_type import param_from_dict
from engine.blocks.resolve import MAX_DEPTH, MAX_NODES
from engine.errors import DeepwireError, NetworkError, ProjectError
from engine.file_access import mode_for, refuse_read_only
from engine.naming import check_network_name
from engine.network import DIRECTIONS, Network

FORMAT = "deepwire"
VERSION = 2
SUFFIX = ".dwire"
_TOP_LEVEL = {"format", "version", "blocks", "networks", "dataset", "training", "notes"}
_NODE_FIELDS = {"id", "type", "params", "pos", "trainable", "bind", "expanded"}
_BLOCK_FIELDS = {"help", "params", "direction", "nodes", "edges"}
BACKUP_SUFFIX = ".bak"
MAX_BYTES = 16 * 1024 * 1024  # a 1000-node network is about 150 KB; weights live elsewhere


@dataclass
class Project:
    """Networks plus the data and training settings that go with them.

    Attributes:
        networks: networks by name; a plain project has one, ``model``.
        dataset: the ``dataset`` section (``{"name": ..., "params": {...}}``) or None.
        training: the ``training`` section or None.
        notes: free text the user keeps with the project.
        blocks: the block types, shared by every network of the project.
    """

    networks: dict[str, Network] = field(default_factory=lambda: {"model": Network("model")})
    dataset: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    notes: str = ""
    blocks: BlockLibrary = field(default_factory=BlockLibrary)

    def __post_init__(self):
        if not len(self.blocks):  # networks built elsewhere bring the types they use
            theirs = {id(n.library): n.library for n in self.networks.values() if len(n.library)}
            if len(theirs) > 1:
                raise ValueError("networks with different block libraries make no one project")
            if theirs:
                self.blocks = next(iter(theirs.values()))
        for network in self.networks.values():
            network.use_library(self.blocks)

    @property
    def network(self) -> Network:
        """The main network: ``model``, or the first one."""
        return self.networks.get("model") or next(iter(self.networks.values()))

    def check_new_name(self, name: object, old: str | None = None) -> str:
        """Return ``name`` if a new network (or ``old`` renamed) may take it; else
        NetworkError with the reason."""
        check_network_name(name)
        if name != old and name in self.networks:
            raise NetworkError(f"the project already has a network named {name!r}")
        return name

    def add_network(self, name: str) -> Network:
        """Add an empty network ``name`` after the others; NetworkError when refused."""
        network = Network(self.check_new_name(name), self.blocks)
        self.networks[name] = network
        return network

    def rename_network(self, old: str, new: str) -> None:
        """Rename ``old`` keeping the networks' order; the adversarial settings that
        name it follow. NetworkError when refused."""
        self.check_new_name(new, old)
        self.networks = {(new if k == old else k): v for k, v in self.networks.items()}
        self.networks[new].name = new
        roles = adversarial_networks(self.training) or {}
        for role, name in roles.items():
            if name == old:
                if not isinstance(self.training.get("adversarial"), dict):
                    self.training["adversarial"] = {}
                self.training["adversarial"][role] = new

    def remove_network(self, name: str) -> Network:
        """Remove ``name`` and return it; the last network is never removed."""
        if len(self.networks) == 1:
            raise NetworkError(f"{name!r} is the project's only network; it cannot be removed")
        return self.networks.pop(name)

    def to_dict(self) -> dict:
        """The project as plain data in file order."""
        data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        if len(self.blocks):
            data["blocks"] = {t.name: t.to_dict() for t in self.blocks}
        data["networks"] = {name: net.to_dict() for name, net in self.networks.items()}
        if self.dataset is not None:
            data["dataset"] = self.dataset
        if self.training is not None:
            data["training"] = self.training
        if self.notes:
            data["notes"] = self.notes
        return data


ADVERSARIAL_ROLES = ("generator", "discriminator")


def adversarial_networks(training: Any) -> dict[str, str] | None:
    """For a ``training`` section with ``"recipe": "adversarial"``: the network names
    its ``adversarial`` settings give each role (``{"generator": ..., "discriminator":
    ...}``; a role not named defaults to its own name); None for other recipes. A name
    that is not text comes back as ``""`` (the file is checked elsewhere)."""
    if not isinstance(training, dict) or training.get("recipe") != "adversarial":
        return None
    settings = training.get("adversarial")
    settings = settings if isinstance(settings, dict) else {}
    roles = {}
    for role in ADVERSARIAL_ROLES:
        name = settings.get(role, role)
        roles[role] = name if isinstance(name, str) else ""
    return roles


def dumps(project: Project) -> str:
    """The project as the text of a ``.dwire`` file.

    Indented JSON with one node, one wire, the dataset and the training settings each on
    one line, so that a change to a node or a setting is a one-line diff.
    """
    data = project.to_dict()
    lines: dict[str, str] = {}
    for network in [*data.get("blocks", {}).values(), *data["networks"].values()]:
        for key in ("params", "nodes", "edges"):
            if key not in network or not isinstance(network[key], list):
                continue
            for index, entry in enumerate(network[key]):
                token = f"\x00{len(lines)}\x00"
                lines[json.dumps(token)] = json.dumps(entry, ensure_ascii=False)
                network[key][index] = token
    for section in ("dataset", "training"):
        if section in data:
            token = f"\x00{len(lines)}\x00"
            lines[json.dumps(token)] = json.dumps(data[section], ensure_ascii=False)
            data[section] = token
    text = json.dumps(data, indent=2, ensure_ascii=False)
    for token, line in lines.items():
        text = text.replace(token, line, 1)
    return text + "\n"


def loads(text: str, source: str = "project") -> Project:
    """Read a project from ``.dwire`` text; ``source`` names it in error messages."""
    _check_size(len(text), source)
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write: not content
    try:
        data = bounds.loads(text)
        _refuse_duplicate_keys(text)
    except (bounds.BoundsError, _DuplicateKey) as error:
        raise ProjectError(f"{source}: not a valid project file: {error}") from None
    except RecursionError:
        raise ProjectError(
            f"{source}: not a valid project file: its JSON is nested too deeply"
        ) from None
    except json.JSONDecodeError as error:
        raise ProjectError(
            f"{source}: not a valid project file: {_syntax_problem(text, error)}"
        ) from None
    return from_dict(data, source)


class _DuplicateKey(ValueError):
    """An object of the file names one key twice."""


def _unique_keys(pairs: list) -> None:
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKey(
                f"the key {_quote(key)} appears twice in one object; a JSON reader would keep "
                "only the last, so the file is refused rather than guessed at"
            )
        seen.add(key)


def _refuse_duplicate_keys(text: str) -> None:
    """Raise _DuplicateKey when an object of (valid JSON) ``text`` repeats a key."""
    json.loads(
        text,
        object_pairs_hook=_unique_keys,
        parse_int=len,  # the values were checked already: keep this pass cheap
        parse_float=len,
        parse_constant=len,
    )


def _syntax_problem(text: str, error: json.JSONDecodeError) -> str:
    """What is wrong with text that is not JSON, in words."""
    body = text.rstrip("\x00")
    if len(body) < len(text):
        return (
            f"it ends in {len(text) - len(body)} zero bytes after line "
            f"{body.count(chr(10)) + 1}: it was damaged while being written (a crash or a "
            "full disk); its backup (.bak) may be whole"
        )
    stripped = text.rstrip()
    if stripped.startswith("{") and not stripped.endswith("}"):
        return f"it ends too early (truncated?) after line {stripped.count(chr(10)) + 1}"
    return f"{error.msg} at line {error.lineno}, column {error.colno}"


def load(path: str | os.PathLike) -> Project:
    """Read a ``.dwire`` file; raises ProjectError with a sentence on any problem."""
    path = Path(path)
    try:
        if path.is_file():
            _check_size(path.stat().st_size, path.name)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ProjectError(f"{path}: is a folder, not a project file") from None
    except OSError as error:
        raise ProjectError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProjectError(f"{path.name}: not a project file (it is not UTF-8 text)") from None
    return loads(text, path.name)


def _check_size(size: int, source: str) -> None:
    if size > MAX_BYTES:
        raise ProjectError(
            f"{source}: is {size / 1e6:.1f} MB, too large for a project file (at most "
            f"{MAX_BYTES // (1024 * 1024)} MB); is it really a .dwire file?"
        )


def backup_path(path: str | os.PathLike) -> Path:
    """Where ``save(..., backup=True)`` keeps the previous file: ``NAME.dwire.bak``."""
    path = Path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)


def save(project: Project, path: str | os.PathLike, backup: bool = False) -> None:
    """Write ``project`` to ``path`` atomically; raises ProjectError if it fails.

    Args:
        project: what to write.
        path: the ``.dwire`` file.
        backup: keep the file being replaced as ``backup_path(path)``. The new text is
            on disk before the backup is touched, so a failed save leaves both the old
            file and its old backup as they were.
    """
    path = Path(path)
    content = dumps(project).encode("utf-8")
    refuse_read_only(path)
    if not backup or not path.is_file():
        write_atomic(path, content)
        return
    new_file = _write_temporary(path, content)
    try:
        old = path.read_bytes()
        if old != content:
            write_atomic(backup_path(path), old)
        _replace(new_file, path)
    except OSError as error:
        raise ProjectError(f"cannot save {path}: {error.strerror or error}") from None
    finally:
        Path(new_file).unlink(missing_ok=True)


def write_atomic(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` so that a reader sees the old or the new file.

    Raises:
        ProjectError: the file cannot be written, or it is read-only (left unchanged).
    """
    refuse_read_only(path)
    temporary = _write_temporary(path, content)
    try:
        _replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise ProjectError(f"cannot save {path}: {error.strerror or error}") from None


def _replace(temporary: str, path: Path) -> None:
    """Rename the written ``temporary`` over ``path``, keeping ``path``'s permissions
    (a new file gets those of the user's umask)."""
    os.chmod(temporary, mode_for(path))
    os.replace(temporary, path)


def _write_temporary(path: Path, content: bytes) -> str:
    """Write ``content`` to a flushed temporary file beside ``path``; returns its name."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise ProjectError(f"cannot save {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise ProjectError(f"cannot save {path}: {error.strerror or error}") from None
    return temporary


def from_dict(data: Any, source: str = "project") -> Project:
    """Validate parsed JSON and build the Project."""

    def fail(message: str):
        raise ProjectError(f"{source}: {message}")

    if not isinstance(data, dict):
        fail(f"a project file holds a JSON object, not {_json_type(data)}")
    if data.get("format") != FORMAT:
        fail('not a Deepwire project (it lacks "format": "deepwire")')
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        fail('"version" must be a whole number such as 1')
    if version > VERSION:
        fail(
            f"was written by a newer Deepwire (file format version {version}); this one reads "
            f"version {VERSION} and older. Update Deepwire to open it"
        )
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        fail(f"unknown field {_quote(unknown[0])} at the top level")
    if "blocks" in data and version < 2:
        fail('"blocks" need file format version 2; this file says version 1')
    library = library_from_dict(data.get("blocks", {}), source)
    networks_data = data.get("networks")
    if not isinstance(networks_data, dict) or not networks_data:
        fail('"networks" must map names to networks, e.g. {"model": {...}}')
    networks = {}
    for name, network_data in networks_data.items():
        try:
            check_network_name(name)
        except DeepwireError as error:
            fail(str(error))
        where = f"{source}: network {_quote(name)}"
        networks[name] = _network_from_dict(name, network_data, where, library)
        if library.node_count(networks[name]) > MAX_NODES:
            fail(
                f"network {_quote(name)} holds more than {MAX_NODES:,} nodes once its blocks "
                "are opened"
            )
    for section in ("dataset", "training"):
        if section in data and not isinstance(data[section], dict):
            fail(f'"{section}" must be an object, not {_json_type(data[section])}')
        try:
            bounds.check_plain(data.get(section), section)
        except bounds.BoundsError as error:
            fail(str(error))
    notes = data.get("notes", "")
    if not isinstance(notes, str):
        fail('"notes" must be text')
    return Project(networks, data.get("dataset"), data.get("training"), notes, library)


def library_from_dict(blocks: Any, source: str) -> BlockLibrary:
    """A ``blocks`` section (``{name: data}``) as a library of its own, with every check
    of a project file (ProjectError naming ``source``): types added inner first, so
    that each instance finds its type; a type that holds itself is refused. Pasted
    and saved blocks are read through it too."""
    library = BlockLibrary()
    if not isinstance(blocks, dict):
        raise ProjectError(f'{source}: "blocks" must map block names to blocks')
    for name in blocks:  # first: a block named Input would seem to hold itself
        try:
            check_block_name(name)
        except DeepwireError as error:
            raise ProjectError(f"{source}: block {_quote(name)}: {error}") from None
    for name in _dependency_order(blocks, source):
        where = f"{source}: block {_quote(name)}"
        block_type = _block_from_dict(name, blocks[name], where, library)
        try:
            library.add(block_type)
        except DeepwireError as error:
            raise ProjectError(f"{where}: {error}") from None
    library.set_order(list(blocks))  # the file's order: saving again changes nothing
    return library


def _dependency_order(blocks: dict, source: str) -> list[str]:
    """Block names, each after the blocks its nodes use; ProjectError on a loop."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(blocks)
    for name, block in blocks.items():
        nodes = block.get("nodes") if isinstance(block, dict) else None
        for entry in nodes if isinstance(nodes, list) else []:
            used = entry.get("type") if isinstance(entry, dict) else None
            if isinstance(used, str) and used in blocks:
                graph.add_edge(used, name)
    try:
        order = list(nx.topological_sort(graph))
    except nx.NetworkXUnfeasible:
        cycle = [a for a, _ in nx.find_cycle(graph)]
        loop = " -> ".join([*cycle, cycle[0]])
        raise ProjectError(
            f"{source}: block {_quote(cycle[0])} holds itself ({loop}); a block cannot contain "
            "itself"
        ) from None
    if graph.number_of_nodes() and nx.dag_longest_path_length(graph) >= MAX_DEPTH:
        raise ProjectError(f"{source}: blocks are nested more than {MAX_DEPTH} deep")
    return order


def _block_from_dict(name: str, data: Any, where: str, library: BlockLibrary) -> BlockType:
    def fail(message: str):
        raise ProjectError(f"{where}: {message}")

    if not isinstance(data, dict):
        fail(f"must be an object with params, nodes and edges, not {_json_type(data)}")
    unknown = sorted(set(data) - _BLOCK_FIELDS)
    if unknown:
        fail(f"unknown field {_quote(unknown[0])}")
    help_text = data.get("help", "")
    if not isinstance(help_text, str):
        fail('"help" must be text')
    params_data = data.get("params", [])
    if not isinstance(params_data, list):
        fail('"params" must be a list of parameters')
    try:
        bounds.check_plain(params_data, "params")
        params = tuple(param_from_dict(entry) for entry in params_data)
        network = _network_from_dict(
            "inside",
            {k: data[k] for k in ("direction", "nodes", "edges") if k in data},
            where,
            library,
        )
        return BlockType(name, network, params, help_text)
    except (DeepwireError, bounds.BoundsError) as error:
        if isinstance(error, ProjectError):
            raise
        fail(str(error))


def _network_from_dict(name: str, data: Any, where: str, library: BlockLibrary) -> Network:
    def fail(message: str):
        raise ProjectError(f"{where}: {message}")

    if not isinstance(data, dict):
        fail(f"must be an object with nodes and edges, not {_json_type(data)}")
    unknown = sorted(set(data) - {"direction", "nodes", "edges"})
    if unknown:
        fail(f"unknown field {_quote(unknown[0])}")
    direction = data.get("direction", "LR")
    if direction not in DIRECTIONS:
        fail('"direction" must be "LR" (left to right) or "TB" (top to bottom)')
    nodes, edges = data.get("nodes", []), data.get("edges", [])
    if not isinstance(nodes, list):
        fail('"nodes" must be a list')
    if not isinstance(edges, list):
        fail('"edges" must be a list')
    network = Network(name, library, direction=direction)
    for index, entry in enumerate(nodes):
        _add_node(network, index, entry, fail)
    for index, edge in enumerate(edges):
        _add_edge(network, index, edge, fail)
    return network


def _add_node(network: Network, index: int, entry: Any, fail) -> None:
    label = f"node {index + 1}"
    if not isinstance(entry, dict):
        fail(f"{label} must be an object, not {_json_type(entry)}")
    node_id = entry.get("id")
    if isinstance(node_id, str):
        label = f"node {_quote(node_id)}"
    for key in ("id", "type"):
        if key not in entry:
            fail(f'{label} has no "{key}"')
    unknown = sorted(set(entry) - _NODE_FIELDS)
    if unknown:
        fail(f"{label}: unknown field {_quote(unknown[0])}")
    params = entry.get("params", {})
    if not isinstance(params, dict):
        fail(f'{label}: "params" must be an object')
    pos = entry.get("pos", [0, 0])
    if (
        not isinstance(pos, list)
        or len(pos) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos)
    ):
        fail(f'{label}: "pos" must be two numbers [x, y]')
    trainable = entry.get("trainable", True)
    if not isinstance(trainable, bool):
        fail(f'{label}: "trainable" must be true or false')
    if not isinstance(entry["type"], str):
        fail(f'{label}: "type" must be a layer type name such as "Linear"')
    expanded = entry.get("expanded", False)
    if not isinstance(expanded, bool):
        fail(f'{label}: "expanded" must be true or false')
    bind = entry.get("bind", {})
    if not isinstance(bind, dict):
        fail(f'{label}: "bind" must map parameter names to block parameter names')
    try:
        if entry["type"] in network.library:  # Deepwire writes only the exposed ones
            for name in params:  # a misspelt one would otherwise be ignored silently
                network.library.spec(entry["type"]).param(name)
        network.add_node(
            entry["type"],
            params,
            tuple(pos),
            node_id,
            trainable,
            check=False,
            bind=bind,
            expanded=expanded,
        )
    except DeepwireError as error:
        fail(f"{label}: {error}")


def _add_edge(network: Network, index: int, edge: Any, fail) -> None:
    label = f"edge {index + 1}"
    if not isinstance(edge, dict) or set(edge) != {"from", "to"}:
        fail(f'{label} must be {{"from": [node, port], "to": [node, port]}}')
    ends = []
    for key in ("from", "to"):
        end = edge[key]
        if not (isinstance(end, list) and len(end) == 2 and all(isinstance(v, str) for v in end)):
            fail(f'{label}: "{key}" must be [node id, port name]')
        if end[0] not in network:
            fail(
                f"{label} goes {'from' if key == 'from' else 'to'} {_quote(end[0])}, which is not a node"
            )
        ends.extend(end)
    try:
        network.connect(*ends, restoring=True)
    except DeepwireError as error:
        fail(f"{label}: {error}")


def _quote(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, shortened so that a huge name stays one sentence."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    for kind, word in names.items():
        if isinstance(value, kind):
            return word
    return "a number"


__all__ = [
    "Project",
    "ProjectError",
    "backup_path",
    "dumps",
    "library_from_dict",
    "load",
    "loads",
    "save",
    "write_atomic",
]
