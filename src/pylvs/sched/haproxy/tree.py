"""An ordered multiset with HAProxy's ebtree semantics, for the algorithms' server trees.

HAProxy keeps servers in eb32 trees (include/import/eb32tree.h): nodes sorted by an unsigned
32-bit key, and a node inserted with a key already present goes *after* the nodes that have it
(duplicates are kept in insertion order).  Every pick order of fwrr, fwlc and first depends on
that.  Here a tree is two parallel sorted lists (keys and nodes): `bisect_right` places a new
node after its equals, `first` / `next` / `prev` / `lookup_ge` walk by index.  Trees hold tens
or hundreds of servers, so the list shifts cost less than a balanced tree's bookkeeping in
Python; the consistent-hash ring, which can hold many thousands of nodes, inserts and removes a
server's nodes in one merge (`insert_many`, `delete_many`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from typing import Any

M32 = 0xFFFFFFFF


class Node:
    """A tree entry: its key, what it stands for, and the tree it is in (None if none)."""

    __slots__ = ("item", "key", "tree")

    def __init__(self, item: Any, key: int = 0) -> None:
        self.item = item
        self.key = key
        self.tree: EbTree | None = None

    def __repr__(self) -> str:
        return f"Node({self.key:#x} {self.item!r})"


def unlink(node: Node | None) -> None:
    """eb32_delete: take `node` out of whatever tree it is in (nothing if none)."""
    if node is not None and node.tree is not None:
        node.tree.delete(node)


class EbTree:
    """eb32 semantics: unsigned 32-bit keys, duplicates after their equals."""

    __slots__ = ("_keys", "_nodes")

    def __init__(self) -> None:
        self._keys: list[int] = []
        self._nodes: list[Node] = []

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Any:
        return iter(list(self._nodes))

    def insert(self, node: Node, key: int) -> None:
        """eb32_insert: `node` (not in any tree) goes in with `key`, after its equals."""
        key &= M32
        node.key = key
        i = bisect_right(self._keys, key)
        self._keys.insert(i, key)
        self._nodes.insert(i, node)
        node.tree = self

    def delete(self, node: Node) -> None:
        """Take `node` out of this tree (it must be in it)."""
        i = self._index(node)
        del self._keys[i]
        del self._nodes[i]
        node.tree = None

    def _index(self, node: Node) -> int:
        i = bisect_left(self._keys, node.key)
        nodes = self._nodes
        while nodes[i] is not node:
            i += 1
        return i

    def first(self) -> Node | None:
        return self._nodes[0] if self._nodes else None

    def last(self) -> Node | None:
        return self._nodes[-1] if self._nodes else None

    def next(self, node: Node) -> Node | None:
        i = self._index(node) + 1
        return self._nodes[i] if i < len(self._nodes) else None

    def prev(self, node: Node) -> Node | None:
        i = self._index(node)
        return self._nodes[i - 1] if i > 0 else None

    def lookup_ge(self, key: int) -> Node | None:
        """eb32_lookup_ge: the first node whose key is >= `key`."""
        i = bisect_left(self._keys, key & M32)
        return self._nodes[i] if i < len(self._nodes) else None

    def insert_many(self, nodes: Iterable[Node]) -> None:
        """Insert nodes (keys already set) as if one by one in the given order."""
        new = [n for n in nodes]
        if not new:
            return
        for n in new:
            n.tree = self
        # A stable sort keeps the nodes already here before new equals, and new equals in
        # their given order: eb32_insert's duplicate rule.
        merged = sorted([*self._nodes, *new], key=lambda n: n.key)
        self._nodes = merged
        self._keys = [n.key for n in merged]

    def delete_many(self, nodes: Iterable[Node]) -> None:
        gone = {id(n) for n in nodes if n.tree is self}
        if not gone:
            return
        for n in self._nodes:
            if id(n) in gone:
                n.tree = None
        self._nodes = [n for n in self._nodes if id(n) not in gone]
        self._keys = [n.key for n in self._nodes]
