"""Names users give, and user text written into generated code.

A node id becomes a submodule attribute (``self.fc1``), a variable in generated code
and a key in the weights file, so it must be an identifier, not a keyword, and not a
name that ``torch.nn.Module`` or ``torch.fx.GraphModule`` already uses. A network name
(``model``, ``generator``) follows a similar rule (``check_network_name``).

Every other piece of user text or data that reaches generated Python (``model.py``,
``train.py``) or the README beside it goes through one function, ``literal``: it writes
a Python literal in printable ASCII with no double quote, no newline and no unpaired
backslash, so it can close no string, docstring or comment it stands in, whatever the
text holds (quotes, ``\"\"\"``, backslashes, ``\r``, U+2028, NUL, braces).
"""

import keyword
import math
import re

from engine.errors import NetworkError

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# Public attributes of torch.nn.Module and torch.fx.GraphModule (checked against the
# installed torch by tests/engine/test_naming.py), plus names generated code relies on.
RESERVED = frozenset(
    [
        "T_destination",
        "add_module",
        "apply",
        "bfloat16",
        "buffers",
        "call_super_init",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "load_state_dict",
        "modules",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "state_dict",
        "to",
        "to_empty",
        "train",
        "type",
        "xpu",
        "zero_grad",
        "training",
        "add_submodule",
        "code",
        "delete_all_unused_submodules",
        "delete_submodule",
        "graph",
        "print_readable",
        "recompile",
        "to_folder",
        "meta",
        "self",
        "torch",
        "operator",
        "builtins",
        "math",
    ]
)

MAX_LENGTH = 64
_NETWORK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def check_id(node_id: object) -> str:
    """Return ``node_id`` if it is a valid node id; otherwise raise NetworkError."""
    _check_name(node_id, "node id", _IDENTIFIER, "letters, digits and underscores")
    if keyword.iskeyword(node_id) or keyword.issoftkeyword(node_id):
        raise NetworkError(f"node id {node_id!r} is a Python keyword; choose another name")
    if node_id in RESERVED:
        raise NetworkError(f"node id {node_id!r} is reserved by PyTorch; choose another name")
    return node_id


def _check_name(name: object, what: str, pattern: re.Pattern, allowed: str) -> None:
    """Raise NetworkError unless ``name`` is a non-empty, short ``pattern`` match."""
    if not isinstance(name, str) or not name:
        raise NetworkError(f"a {what} must be a non-empty name, got {name!r}")
    if len(name) > MAX_LENGTH:
        raise NetworkError(f"{what} {name[:20]!r}... is longer than {MAX_LENGTH} characters")
    if not pattern.fullmatch(name):
        raise NetworkError(
            f"{what} {name[:MAX_LENGTH]!r} must start with a letter and hold only {allowed}"
        )


def suggest_id(base: str, taken: set[str] | dict) -> str:
    """A valid id not in ``taken``, derived from ``base`` (``fc`` -> ``fc1``, ``fc2``...)."""
    stem = re.sub(r"[^A-Za-z0-9_]", "_", base).strip("_") or "node"
    if not stem[0].isalpha():
        stem = "n" + stem
    stem = stem[: MAX_LENGTH - 4]
    stem = re.sub(r"\d+$", "", stem) or stem
    if stem in RESERVED or keyword.iskeyword(stem) or keyword.issoftkeyword(stem):
        stem = stem + "_"
    index = 1
    while f"{stem}{index}" in taken:
        index += 1
    return f"{stem}{index}"


def check_network_name(name: object) -> str:
    """Return ``name`` if it can name a network (``model``, ``encoder-2``); else NetworkError."""
    _check_name(name, "network name", _NETWORK_NAME, "letters, digits, underscores and hyphens")
    return name


def literal(value: object) -> str:
    """``value`` (JSON-like data, tuples allowed) as the source of an equal Python literal.

    The result is printable ASCII without ``"`` or a line break, so it is safe inside
    code, a docstring, a comment or Markdown: ``literal('say "hi"')`` is
    ``'say \\x22hi\\x22'``.

    Raises:
        ValueError: a float that is not finite, or a value that is not plain data.
    """
    if isinstance(value, str):
        return _text_literal(value)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no Python literal; numbers must be finite")
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"cannot write a {type(value).__name__} into generated code")


def _text_literal(text: str) -> str:
    # unicode_escape escapes backslashes, control characters and everything outside
    # printable ASCII (U+2028, U+0085, NUL...); quotes are left, so escape them here.
    body = text.encode("unicode_escape").decode("ascii")
    return "'" + body.replace("'", "\\'").replace('"', "\\x22") + "'"
