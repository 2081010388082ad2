"""The block types of a project, shared by all its networks.

Kept apart from ``engine.network`` (which imports it) so that a network can hold a
library without the library importing the network model at load time.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from engine.blocks.resolve import MAX_NODES
from engine.errors import NetworkError
from engine.events import EventGroup

if TYPE_CHECKING:
    from engine.blocks.block_type import BlockType
    from engine.blocks.spec import BlockSpec


class BlockLibrary:
    """Block types by name, in the order they were added.

    Events: ``type_added(block_type)``, ``type_removed(block_type)`` and
    ``changed()`` after any change of any type's inside or parameters (instances
    everywhere must be analysed again). ``revision`` counts those changes, so that
    cached analyses of instances know when they are stale.
    """

    def __init__(self):
        self._types: dict[str, BlockType] = {}
        self.revision = 0
        self.cache: dict = {}  # analyses of instances, valid for this revision only
        self._node_counts: dict[str, int] = {}  # per type, valid for this revision only
        self._networks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self.events = EventGroup("type_added", "type_removed", "changed")

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self):
        return iter(list(self._types.values()))

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        """Block type names, in order."""
        return list(self._types)

    def get(self, name: str) -> BlockType:
        """The block type ``name``; NetworkError when there is none."""
        try:
            return self._types[name]
        except KeyError:
            raise NetworkError(f"there is no block type {name!r}") from None

    def spec(self, name: str) -> BlockSpec:
        """A LayerSpec-like view of block type ``name`` (always current)."""
        from engine.blocks.spec import BlockSpec

        return BlockSpec(self.get(name))

    def add(self, block_type: BlockType) -> BlockType:
        """Add a block type whose name is free; it shares this library from now on."""
        from engine.blocks.block_type import check_block_name

        check_block_name(block_type.name, self)
        if self.node_count(block_type.network) > MAX_NODES:
            raise NetworkError(
                f"block {block_type.name} holds more than {MAX_NODES:,} nodes once the "
                "blocks inside it are opened"
            )
        block_type.attach(self)
        self._types[block_type.name] = block_type
        self.touch()
        self.events.type_added.emit(block_type)
        return block_type

    def remove(self, name: str) -> BlockType:
        """Remove block type ``name`` and return it (instances of it become errors)."""
        block_type = self.get(name)
        users = self.users_of(name)
        if users:
            raise NetworkError(
                f"block type {name} is used inside {', '.join(sorted(users))}; remove those "
                "uses first"
            )
        del self._types[name]
        block_type.detach()
        self.touch()
        self.events.type_removed.emit(block_type)
        return block_type

    def register(self, network) -> None:
        """Note a network that uses this library, so that renaming a type reaches its
        instances there (kept weakly: a network dropped is forgotten)."""
        self._networks[id(network)] = network

    def rename(self, old: str, new: str) -> None:
        """Rename block type ``old``, keeping its place; every instance in the networks
        using this library follows."""
        from engine.blocks.block_type import check_block_name

        block_type = self.get(old)
        if new == old:
            return
        check_block_name(new, self)
        self._types = {(new if k == old else k): v for k, v in self._types.items()}
        block_type.name = new
        for network in list(self._networks.values()):
            network.retype_all(old, new)
        self.touch()

    def set_params(self, name: str, params: tuple) -> None:
        """Give block type ``name`` these exposed parameters (``Param``s). Instances
        get the defaults of new ones; values of removed ones stay, unused, so that
        undoing the change finds them."""
        block_type = self.get(name)
        if tuple(params) == block_type.params:
            return
        block_type.params = tuple(params)
        defaults = block_type.defaults()
        for network in list(self._networks.values()):
            network.complete_params(name, defaults)
        self.touch()

    def set_order(self, names: list[str]) -> None:
        """Put the types in the order of ``names`` (all of them), so that undo gives
        back the same file."""
        if sorted(names) != sorted(self._types):
            raise NetworkError("set_order needs every block type name exactly once")
        self._types = {name: self._types[name] for name in names}

    def copy(self) -> BlockLibrary:
        """An independent copy (each type rebuilt from its data), types in the same
        order."""
        from engine.blocks.block_type import BlockType

        copy = BlockLibrary()
        pending = list(self._types.values())
        while pending:  # each type after the types it holds
            ready = [t for t in pending if t.used_types() <= set(copy.names())]
            for block_type in ready or pending[:1]:
                copy.add(BlockType.from_data(block_type.name, block_type.to_dict(), copy))
                pending.remove(block_type)
        copy.set_order(self.names())
        return copy

    def users_of(self, name: str) -> set[str]:
        """Names of the block types whose inside holds an instance of ``name``."""
        return {t.name for t in self._types.values() if name in t.used_types()}

    def contains_type(self, outer: str, inner: str) -> bool:
        """Whether block type ``outer`` holds ``inner`` at any depth (or is it)."""
        seen, todo = set(), [outer]
        while todo:
            name = todo.pop()
            if name == inner:
                return True
            if name in seen or name not in self._types:
                continue
            seen.add(name)
            todo.extend(self._types[name].used_types())
        return False

    def node_count(self, network) -> int:
        """How many nodes ``network`` holds with every block in it, at any depth,
        opened (each instance counted as the nodes of its inside)."""
        return sum(
            self._type_node_count(n.type) if n.type in self._types else 1 for n in network.nodes
        )

    def _type_node_count(self, name: str) -> int:
        """``node_count`` of type ``name``'s inside, remembered until the next change."""

        def count(current: str, counts: dict) -> int:
            return sum(counts.get(n.type, 1) for n in self._types[current].network.nodes)

        return _fold(name, lambda t: self._types[t].used_types(), count, self._node_counts)

    def nesting(self, outer: str, inner: str) -> int:
        """How many blocks deep an instance of ``inner`` inside type ``outer`` would
        nest at most: the types that hold ``outer`` one in another, ``outer``, and
        ``inner`` with the types it holds one in another."""
        users: dict[str, set[str]] = {name: set() for name in self._types}
        for block_type in self._types.values():
            for used in block_type.used_types():
                users[used].add(block_type.name)

        def longest(current: str, found: dict) -> int:
            return 1 + max((found[n] for n in step(current)), default=0)

        step = users.__getitem__
        above = _fold(outer, step, longest, {})
        step = lambda name: self._types[name].used_types()  # noqa: E731
        return above + _fold(inner, step, longest, {})

    def touch(self) -> None:
        """Note that some type changed: cached analyses are stale; tell the listeners."""
        self.revision += 1
        self.cache.clear()
        self._node_counts.clear()
        self.events.changed.emit()


def _fold(start: str, inner, value, found: dict) -> int:
    """``value(name, found)`` of block type ``start``, computed once ``found`` holds it
    for every type that ``inner(name)`` names, and so on down (kept in ``found``).
    Without recursion, so that no nesting depth can exhaust the stack.

    Raises:
        NetworkError: a type holds itself (the library refuses that, so never).
    """
    opened, todo = set(), [start]
    while todo:
        current = todo[-1]
        missing = set(inner(current)) - set(found)
        if not missing:
            found[current] = value(current, found)
            todo.pop()
        elif current in opened:  # back here with its inner types still unknown
            raise NetworkError(f"block {current} holds itself")
        else:
            opened.add(current)
            todo.extend(missing)
    return found[start]
