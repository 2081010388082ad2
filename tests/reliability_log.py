"""Case counts of the reliability tests, for docs/reliability.md and the README table.

``DEEPWIRE_PROPERTY_SCALE`` multiplies every stated count (``benchmarks/bench_reliability``
runs them at 10x); ``DEEPWIRE_RELIABILITY_LOG`` names a file that collects the counts.
"""

import json
import os

SCALE = float(os.environ.get("DEEPWIRE_PROPERTY_SCALE", "1"))


def scaled(count: int) -> int:
    """``count`` cases, times DEEPWIRE_PROPERTY_SCALE (at least one)."""
    return max(1, int(count * SCALE))


def write_case_counts(cases: dict[str, int]) -> None:
    """Append ``{"property", "cases"}`` lines to $DEEPWIRE_RELIABILITY_LOG, when it is set."""
    log = os.environ.get("DEEPWIRE_RELIABILITY_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as stream:
            for name, count in cases.items():
                stream.write(json.dumps({"property": name, "cases": count}) + "\n")
