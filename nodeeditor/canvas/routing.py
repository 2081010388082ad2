"""Where a wire runs: a curve between neighbours, a route around the nodes it passes.

Plain geometry, no Qt: points are ``(x, y)`` and rectangles ``(left, top, right,
bottom)`` in scene units. A wire leaves its output port to the right and enters its
input port from the left. Between neighbours it is a smooth cubic curve
(``curve_controls``). When that curve would pass behind another node (a skip
connection over several layers, in either layout direction) or the wire runs
backwards (from the end of a band to the start of the next, a loop), ``route`` gives
an orthogonal path instead: out of the source port, to a free lane beside the nodes
it passes, along it and into the target port. The canvas rounds its corners.

A wire that jumps over nodes swings wider out of and into its ports (``WIDE_HOOK``)
than one between neighbours, so that its lane does not run on top of theirs.

A network drawn top to bottom has its ports on the nodes' top (inputs) and bottom
(outputs) edges: with ``vertical=True`` the same geometry runs on the plane mirrored
along its diagonal (x and y swapped), so a wire leaves downwards, enters from above,
and a skip connection goes down a lane beside the column (right of it on a tie).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # left, top, right, bottom

HOOK = 30.0  # how far a route runs straight out of (into) a port before it turns
WIDE_HOOK = 60.0  # the same for a wire that jumps over other nodes
# Out of a bottom port, shorter: the gap between rows is narrower than between columns,
# and its middle is where the wire labels of the neighbours sit.
VERTICAL_HOOK = 18.0
LANE_GAP = 24.0  # distance of a lane from the nodes beside it
CLEARANCE = 8.0  # a route keeps at least this far from nodes other than its own two
BEND_COST = 20.0  # a corner costs as much as this many units of length
ABOVE_COST = 20.0  # when above and below are about as long, the lane goes below
CURVE_SAMPLES = 24
MAX_TRIES = 40  # routes tried before the one crossing fewest nodes is taken
COUNTED_TRIES = 8  # of those, the first ones whose crossings are counted


class RectIndex:
    """Rectangles by key, found by the area they overlap (a grid of square cells), so
    that a wire looks only at the nodes near it in a network of hundreds."""

    CELL = 400.0

    def __init__(self):
        self._rects: dict[Hashable, Rect] = {}
        self._cells: dict[tuple[int, int], set] = {}

    def __len__(self) -> int:
        return len(self._rects)

    def get(self, key: Hashable) -> Rect | None:
        """The rectangle of ``key``, or None."""
        return self._rects.get(key)

    def set(self, key: Hashable, rect: Rect) -> None:
        """Put ``key`` at ``rect`` (moving it when it was elsewhere)."""
        if self._rects.get(key) == rect:
            return
        self.discard(key)
        self._rects[key] = rect
        for cell in self._cells_of(rect):
            self._cells.setdefault(cell, set()).add(key)

    def discard(self, key: Hashable) -> None:
        """Forget ``key`` (nothing when unknown)."""
        rect = self._rects.pop(key, None)
        if rect is None:
            return
        for cell in self._cells_of(rect):
            keys = self._cells.get(cell)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._cells[cell]

    def near(self, area: Rect) -> list[tuple[Hashable, Rect]]:
        """``(key, rect)`` of every rectangle whose inside meets ``area``."""
        found: set = set()
        for cell in self._cells_of(area):
            found.update(self._cells.get(cell, ()))
        return [(key, self._rects[key]) for key in found if _overlaps(self._rects[key], area)]

    def _cells_of(self, rect: Rect) -> Iterable[tuple[int, int]]:
        size = self.CELL
        left, top = math.floor(rect[0] / size), math.floor(rect[1] / size)
        right, bottom = math.floor(rect[2] / size), math.floor(rect[3] / size)
        return ((i, j) for i in range(left, right + 1) for j in range(top, bottom + 1))


def _swap(point: Point) -> Point:
    return point[1], point[0]


def _swap_rect(rect: Rect) -> Rect:
    return rect[1], rect[0], rect[3], rect[2]


def curve_controls(start: Point, end: Point, vertical: bool = False) -> tuple[Point, Point]:
    """The two control points of the cubic curve of a wire from ``start`` to ``end``
    (tangents horizontal, or vertical for ports on the top and bottom edges)."""
    if vertical:
        c1, c2 = curve_controls(_swap(start), _swap(end))
        return _swap(c1), _swap(c2)
    (x0, y0), (x1, y1) = start, end
    bend = max(40.0, abs(x1 - x0) * 0.5, min(abs(y1 - y0), 120.0) * 0.6)
    return (x0 + bend, y0), (x1 - bend, y1)


def curve_points(
    start: Point, end: Point, samples: int = CURVE_SAMPLES, vertical: bool = False
) -> list[Point]:
    """Points along the wire's curve, ``start`` and ``end`` included."""
    (c1x, c1y), (c2x, c2y) = curve_controls(start, end, vertical)
    (x0, y0), (x3, y3) = start, end
    points = []
    for i in range(samples + 1):
        t = i / samples
        u = 1 - t
        a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
        points.append((a * x0 + b * c1x + c * c2x + d * x3, a * y0 + b * c1y + c * c2y + d * y3))
    return points


def route(
    start: Point,
    end: Point,
    source: Rect,
    target: Rect,
    others: list[Rect],
    bounds: Rect | None = None,
    vertical: bool = False,
    hook: float = HOOK,
) -> list[Point] | None:
    """The corners of a path from an output port to an input port around the nodes.

    Args:
        start: the output port (on the right edge of ``source``, or its bottom edge
            when ``vertical``).
        end: the input port (on the left edge of ``target``, or its top edge).
        source: the rectangle of the node the wire leaves.
        target: the rectangle of the node the wire enters.
        others: the rectangles of the other nodes near the wire.
        bounds: the area ``others`` were collected from; a route stays inside it.
        vertical: the ports are on the top and bottom edges (a top to bottom drawing).
        hook: how far the route runs straight out of and into its ports.

    Returns:
        None when the direct curve passes no other node (draw the curve); else the
        corners from ``start`` to ``end`` of an orthogonal path that crosses no node
        (or, when every lane is blocked, the one that crosses fewest).
    """
    if vertical:
        corners = route(
            _swap(start), _swap(end), _swap_rect(source), _swap_rect(target),
            [_swap_rect(r) for r in others], _swap_rect(bounds) if bounds else None,
            hook=VERTICAL_HOOK,
        )  # fmt: skip
        return None if corners is None else [_swap(p) for p in corners]
    inflated = [_inflate(r, CLEARANCE) for r in others]
    forward = end[0] - start[0] >= 0
    if forward and not _polyline_hits(curve_points(start, end), _near_curve(start, end, inflated)):
        return None
    obstacles = [source, target, *inflated]
    candidates = _candidates(start, end, source, target, others, obstacles, forward, hook)
    if bounds is not None:
        candidates = [c for c in candidates if all(_inside(p, bounds) for p in c[1])]
    best, fewest = None, math.inf
    for tries, (_, points) in enumerate(candidates[:MAX_TRIES]):
        if not _polyline_hits(points, obstacles):
            return points
        if tries < COUNTED_TRIES:
            crossings = _crossings(points, obstacles)
            if crossings < fewest:
                best, fewest = points, crossings
    return best or _lane_route(start, end, hook, max(source[3], target[3]) + LANE_GAP)


def _candidates(start, end, source, target, others, obstacles, forward, short) -> list:
    """``(cost, corners)`` of the routes worth trying, the best first; ``short``: the
    hook of a wire between neighbours."""
    jumps = any(_overlaps(r, _box(start, end)) for r in others)
    hooks = (WIDE_HOOK, short) if jumps else (short,)
    lanes = _lanes(start, end, [source, target, *others])
    candidates = []
    for rank, hook in enumerate(hooks):
        # a tie goes to the turn nearest the target, or for a wire that jumps over
        # nodes to the one nearest the source: the lanes of neighbours are beside
        # their targets, and the jumping wire then runs beside the nodes it passes
        near = start if hook == WIDE_HOOK else end
        for y in lanes:
            if forward and y in (start[1], end[1]):
                continue  # a step (below) at the port's height: it tries more places
            points = _lane_route(start, end, hook, y)
            candidates.append(((rank, *_cost(points, start, end, abs(y - near[1]))), points))
        if forward:
            # a step's runs along the ports' heights end before the first node there
            low, high = _reach(end, -1, obstacles), _reach(start, 1, obstacles)
            middle = (start[0] + end[0]) / 2  # a tie goes to the middle of the gap
            for x in (x for x in _steps(start, end, others, hook) if low <= x <= high):
                points = _step_route(start, end, x)
                candidates.append(((rank, *_cost(points, start, end, abs(x - middle))), points))
    candidates.sort(key=lambda candidate: candidate[0])
    return candidates


def _near_curve(start: Point, end: Point, rects: list[Rect]) -> list[Rect]:
    """The rectangles that meet the box of the curve's control points (it holds the
    curve)."""
    c1, c2 = curve_controls(start, end)
    xs, ys = (start[0], end[0], c1[0], c2[0]), (start[1], end[1])
    box = (min(xs), min(ys), max(xs), max(ys))
    return [r for r in rects if _overlaps(r, box)]


def _lane_route(start: Point, end: Point, hook: float, lane: float) -> list[Point]:
    """Out of ``start`` by ``hook``, to the height ``lane``, along it, into ``end``."""
    out, into = start[0] + hook, end[0] - hook
    return _simplify([start, (out, start[1]), (out, lane), (into, lane), (into, end[1]), end])


def _step_route(start: Point, end: Point, x: float) -> list[Point]:
    """Along the source's height to ``x``, down (or up) there, along the target's."""
    return _simplify([start, (x, start[1]), (x, end[1]), end])


def _lanes(start: Point, end: Point, rects: list[Rect]) -> list[float]:
    """Heights a horizontal lane may take: the ports' own, and beside each node."""
    lanes = {start[1], end[1]}
    for _, top, _, bottom in rects:
        lanes.add(top - LANE_GAP)
        lanes.add(bottom + LANE_GAP)
    return sorted(lanes)


def _reach(point: Point, direction: int, rects: list[Rect]) -> float:
    """How far a horizontal run from ``point`` (to the right for ``direction`` 1, else
    to the left) goes before it enters one of ``rects``."""
    x, y = point
    limit = math.inf * direction
    for left, top, right, bottom in rects:
        if top < y < bottom:
            if direction > 0 and right > x:
                limit = min(limit, max(left, x))
            elif direction < 0 and left < x:
                limit = max(limit, min(right, x))
    return limit


def _steps(start: Point, end: Point, others: list[Rect], hook: float) -> list[float]:
    """Where a forward wire may change height: beside its ports, and beside each node
    between them."""
    low, high = start[0] + hook, end[0] - hook
    steps = {low, high, (start[0] + end[0]) / 2}
    for left, _, right, _ in others:
        steps.add(left - LANE_GAP)
        steps.add(right + LANE_GAP)
    return sorted(x for x in steps if low <= x <= high)


def _cost(points: list[Point], start: Point, end: Point, tie: float) -> tuple[float, float]:
    """Length plus corners (a lane above both ends costs a little more), then ``tie``."""
    length = sum(abs(bx - ax) + abs(by - ay) for (ax, ay), (bx, by) in itertools.pairwise(points))
    cost = length + BEND_COST * (len(points) - 2)
    lane = min(y for _, y in points)
    if lane < min(start[1], end[1]):
        cost += ABOVE_COST
    return round(cost, 3), tie


def _simplify(points: list[Point]) -> list[Point]:
    """Drop repeated points and the middle of three in a line."""
    kept: list[Point] = []
    for point in points:
        if kept and _close(point, kept[-1]):
            continue
        if len(kept) >= 2 and _collinear(kept[-2], kept[-1], point):
            kept[-1] = point
            continue
        kept.append(point)
    return kept


def _close(a: Point, b: Point) -> bool:
    return abs(a[0] - b[0]) < 1e-6 and abs(a[1] - b[1]) < 1e-6


def _collinear(a: Point, b: Point, c: Point) -> bool:
    """Whether b lies on the horizontal or vertical line from a to c, between them."""
    same_x = abs(a[0] - b[0]) < 1e-6 and abs(b[0] - c[0]) < 1e-6
    same_y = abs(a[1] - b[1]) < 1e-6 and abs(b[1] - c[1]) < 1e-6
    if same_x:
        return (b[1] - a[1]) * (c[1] - b[1]) >= 0
    if same_y:
        return (b[0] - a[0]) * (c[0] - b[0]) >= 0
    return False


def _crossings(points: list[Point], rects: list[Rect]) -> int:
    """How many of ``rects`` the polyline passes through."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    box = (min(xs), min(ys), max(xs), max(ys))
    return sum(_polyline_hits(points, [rect]) for rect in rects if _overlaps(rect, box))


def _polyline_hits(points: list[Point], rects: list[Rect]) -> bool:
    """Whether any segment of the polyline enters the inside of one of ``rects``."""
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        low_x, high_x = (ax, bx) if ax < bx else (bx, ax)
        low_y, high_y = (ay, by) if ay < by else (by, ay)
        for rect in rects:
            if (
                rect[0] < high_x
                and low_x < rect[2]
                and rect[1] < high_y
                and low_y < rect[3]
                and segment_hits((ax, ay), (bx, by), rect)
            ):
                return True
    return False


def segment_hits(a: Point, b: Point, rect: Rect) -> bool:
    """Whether the segment from ``a`` to ``b`` enters the inside of ``rect`` (touching
    its edge does not count): Liang-Barsky clipping against the open rectangle."""
    left, top, right, bottom = rect
    dx, dy = b[0] - a[0], b[1] - a[1]
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, a[0] - left), (dx, right - a[0]), (-dy, a[1] - top), (dy, bottom - a[1])):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 >= t1:
            return False
    return True


def overlaps(rect: Rect, other: Rect) -> bool:
    """Whether two rectangles share some area (touching edges do not count)."""
    return rect[0] < other[2] and other[0] < rect[2] and rect[1] < other[3] and other[1] < rect[3]


def _box(a: Point, b: Point) -> Rect:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))


def _overlaps(rect: Rect, box: Rect) -> bool:
    """Whether the inside of ``rect`` meets the closed ``box``."""
    return rect[0] < box[2] and box[0] < rect[2] and rect[1] < box[3] and box[1] < rect[3]


def _inflate(rect: Rect, by: float) -> Rect:
    return (rect[0] - by, rect[1] - by, rect[2] + by, rect[3] + by)


def _inside(point: Point, bounds: Rect) -> bool:
    return bounds[0] <= point[0] <= bounds[2] and bounds[1] <= point[1] <= bounds[3]
