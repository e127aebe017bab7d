"""The profile tree and its queries, following MIT krb5 1.20 ``src/util/profile``.

One tree per configuration file (included files merge into their includer's tree).  Inside a
tree, children are kept sorted by name with ``strcmp`` and, for equal names, in file order
(``profile_add_node``); a ``[section]`` header or a ``tag = {`` subsection whose name already
exists is merged into the existing node.

Queries walk the trees in file order (``profile_node_iterator``): in each tree the containing
subsection is found by name, and if any node on that path carries the final marker (``*``),
later files are not consulted.  The final marker on a relation (``tag* = v``) is recorded but,
as in MIT, changes no lookup.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ...errors import ConfigError
from ._values import parse_boolean, parse_integer, string_to_deltat


def to_bytes(text: str) -> bytes:
    """A name or value as the C library sees it (UTF-8; undecodable bytes round-trip)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def to_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


class Node:
    """A section (``value is None``) or a relation.  Mutable only while a file is parsed."""

    __slots__ = ("children", "final", "name", "parent", "value")

    def __init__(self, name: bytes, value: bytes | None, parent: Node | None) -> None:
        self.name = name
        self.value = value
        self.parent = parent
        self.final = False
        self.children: list[Node] = []

    def find_section(self, name: bytes) -> Node | None:
        """The subsection called ``name`` (after merging there is at most one)."""
        i = bisect.bisect_left(self.children, name, key=_name_of)
        while i < len(self.children) and self.children[i].name == name:
            if self.children[i].value is None:
                return self.children[i]
            i += 1
        return None

    def add(self, name: bytes, value: bytes | None) -> Node:
        """``profile_add_node``: insert after the last child whose name sorts <= ``name``."""
        node = Node(name, value, self)
        self.children.insert(bisect.bisect_right(self.children, name, key=_name_of), node)
        return node

    def section(self, name: bytes) -> Node:
        """The existing subsection ``name``, or a new one (MIT 1.20 merges duplicates)."""
        found = self.find_section(name)
        return found if found is not None else self.add(name, None)


def _name_of(node: Node) -> bytes:
    return node.name


@dataclass(frozen=True, slots=True)
class FileTree:
    """The parsed contents of one configuration file (with its includes)."""

    #: The file name, as given (or "<string>" for parsed text).
    source: str
    #: The root node; its children are the ``[sections]``.
    root: Node


class Profile:
    """An ordered list of parsed files, queried as MIT's profile library queries them."""

    __slots__ = ("_trees", "module")

    def __init__(self, trees: Sequence[FileTree] = (), module: str | None = None) -> None:
        self._trees = tuple(trees)
        #: The ``module`` directive of the first file, if any (gssmech cannot load modules).
        self.module = module

    @property
    def sources(self) -> list[str]:
        """The files that were read, in precedence order."""
        return [tree.source for tree in self._trees]

    def __repr__(self) -> str:
        return f"Profile(sources={self.sources!r})"

    def _nodes(self, path: Sequence[str], *, list_section: bool) -> Iterator[Node]:
        """``profile_node_iterator``: matching nodes of every file, stopping after a final path."""
        names = [to_bytes(p) for p in path]
        if list_section:
            containing, target = names, None
        else:
            if not names:
                raise ConfigError("a profile lookup needs at least one name")
            containing, target = names[:-1], names[-1]
        for tree in self._trees:
            section: Node | None = tree.root
            final_seen = False
            for name in containing:
                assert section is not None
                section = section.find_section(name)
                if section is None:
                    break
                final_seen = final_seen or section.final
            if section is not None:
                for child in section.children:
                    if target is None or child.name == target:
                        yield child
            if final_seen:
                return

    def get_all(self, *path: str) -> list[str]:
        """``profile_get_values``: every value of the relation, in file order."""
        return [
            to_text(n.value) for n in self._nodes(path, list_section=False) if n.value is not None
        ]

    def get(self, *path: str, default: str | None = None) -> str | None:
        """``profile_get_value``: the first value of the relation, else ``default``."""
        for node in self._nodes(path, list_section=False):
            if node.value is not None:
                return to_text(node.value)
        return default

    def get_bool(self, *path: str, default: bool) -> bool:
        """``profile_get_boolean``; an unknown word raises :class:`ConfigError`."""
        value = self.get(*path)
        return default if value is None else parse_boolean(value)

    def get_int(self, *path: str, default: int) -> int:
        """``profile_get_integer``; a malformed number raises :class:`ConfigError`."""
        value = self.get(*path)
        return default if value is None else parse_integer(value)

    def get_duration(self, *path: str, default: int) -> int:
        """The first value read by ``krb5_string_to_deltat``, in seconds."""
        value = self.get(*path)
        return default if value is None else string_to_deltat(value)

    def subsections(self, *path: str) -> list[str]:
        """Names of the subsections under ``path``, first occurrence order, no duplicates.

        NB(mit): ``profile_get_subsection_names`` repeats a name once per file; we do not.
        """
        seen: dict[str, None] = {}
        for node in self._nodes(path, list_section=True):
            if node.value is None:
                seen.setdefault(to_text(node.name), None)
        return list(seen)

    def sections(self) -> list[str]:
        """The top-level ``[section]`` names."""
        return self.subsections()

    def relations(self, *path: str) -> list[str]:
        """``profile_get_relation_names``: relation names under ``path``, no duplicates."""
        seen: dict[str, None] = {}
        for node in self._nodes(path, list_section=True):
            if node.value is not None:
                seen.setdefault(to_text(node.name), None)
        return list(seen)
