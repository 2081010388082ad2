"""What an importer could not import, in one sentence grouped by cause.

A model with 35 ReLU6 modules gets ``ReLU6: 35 modules, e.g. features.0.2, features.1.2,
features.2.2``, never one line per occurrence; the causes come most frequent first, and
a place listed twice counts once. Names come from the user's file, so each is cut short
and stripped of control characters: a hostile file cannot make the sentence huge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

EXAMPLES = 3  # places named per cause
MAX_CAUSES = 12  # causes named in one sentence; the rest are counted
MAX_NAME = 60  # characters of one name shown
MAX_CAUSE = 160  # characters of one cause shown (a reason may quote settings)


def grouped(causes: Mapping[str, Sequence[str]], noun: str | Callable[[str], str]) -> str:
    """``{"Resize": ["/up1/Resize", ...]}`` -> ``"Resize: 4 nodes, e.g. /up1/Resize, ..."``.

    Args:
        causes: each cause (an op type, a module class) with the places it occurs.
        noun: what a place is, singular (``node``, ``module``), or a function that
            says it for each cause.
    """
    noun_of = noun if callable(noun) else lambda cause: noun
    ranked = sorted(causes.items(), key=lambda item: (-len(set(item[1])), item[0]))
    parts = [_cause(cause, list(dict.fromkeys(places)), noun_of(cause)) for cause, places in ranked]
    if len(parts) > MAX_CAUSES:
        rest = len(parts) - MAX_CAUSES
        parts = [*parts[:MAX_CAUSES], f"and {rest} other cause{'s' if rest > 1 else ''}"]
    return "; ".join(parts)


def _cause(cause: str, places: list[str], noun: str) -> str:
    count = len(places)
    names = ", ".join(shorten(p) for p in places[:EXAMPLES])
    counted = f"{count} {noun}{'' if count == 1 else 's'}"
    if count > EXAMPLES:
        return f"{shorten(cause, MAX_CAUSE)}: {counted}, e.g. {names}"
    return f"{shorten(cause, MAX_CAUSE)}: {counted} ({names})"


def shorten(text: str, limit: int = MAX_NAME) -> str:
    """``text`` on one line, at most ``limit`` characters (a cut ends in ``...``)."""
    text = "".join(c if c.isprintable() else "?" for c in str(text)) or "(unnamed)"
    return text if len(text) <= limit else text[: limit - 3] + "..."
