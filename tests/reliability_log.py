"""How many cases each property test ran, for docs/reliability.md and the README table."""

import json
import os


def write_case_counts(cases: dict[str, int]) -> None:
    """Append ``{"property", "cases"}`` lines to $DEEPWIRE_RELIABILITY_LOG, when it is set."""
    log = os.environ.get("DEEPWIRE_RELIABILITY_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as stream:
            for name, count in cases.items():
                stream.write(json.dumps({"property": name, "cases": count}) + "\n")
