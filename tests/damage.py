"""Damaging a file's bytes for the robustness property tests."""

from __future__ import annotations

import gzip

from hypothesis import strategies as st

WAYS = ("truncate", "flip", "splice")


def damage(draw, data: bytes, how: str) -> bytes:
    """``data`` truncated, with 1-8 flipped bits, with up to 64 bytes replaced by random
    ones, or (``gzip``) as a gzipped fragment; ``draw`` is hypothesis's."""
    damaged = bytearray(data)
    if how == "truncate":
        damaged = damaged[: draw(st.integers(0, len(damaged) - 1))]
    elif how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(damaged) - 1))
            damaged[position] ^= 1 << draw(st.integers(0, 7))
    elif how == "splice":
        start = draw(st.integers(0, len(damaged)))
        damaged[start : start + draw(st.integers(0, 64))] = draw(st.binary(max_size=64))
    elif how == "gzip":
        damaged = bytearray(gzip.compress(data)[: draw(st.integers(1, 200))])
    else:
        raise ValueError(how)
    return bytes(damaged)
