"""Load multi-document YAML safely, keeping the line and column of every key and value.

PyYAML's safe loader still accepts duplicate keys (the last one silently wins) and expands
aliases without bound. Here documents are composed into nodes and converted by hand:
duplicate keys, non-standard tags (``!!python/object``...) and alias bombs are refused,
each with its location.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .findings import Finding, Location, ManifestError

Path = tuple[Any, ...]

#: Converted nodes allowed per document; aliases past this look like a "billion laughs" bomb.
MAX_NODES = 200_000

_STD = "tag:yaml.org,2002:"
#: libyaml's parser when PyYAML was built with it (10x faster; same nodes and marks).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: The safe loaders' resolver (SafeLoader and CSafeLoader both use yaml.resolver.Resolver's table).
_RESOLVER = yaml.resolver.Resolver()


@functools.lru_cache(maxsize=4096)
def _plain_tag(value: str) -> str:
    """The tag the safe loader gives an untagged plain scalar (``true`` → bool, ``12`` → int, ``x`` → str)."""
    return _RESOLVER.resolve(ScalarNode, value, (True, False))


class _Loader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, resolving each distinct plain scalar's tag once: the parser asks for every node, and
    the resolver's regular expressions were a third of reading a thousand rendered sessions."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and not self.yaml_path_resolvers:
            return _plain_tag(value) if implicit[0] else self.DEFAULT_SCALAR_TAG
        return super().resolve(kind, value, implicit)


_LOADER = _Loader
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_STR, _BOOL, _NULL = _STD + "str", _STD + "bool", _STD + "null"
_BOOL_VALUES = yaml.constructor.SafeConstructor.bool_values


@dataclass
class Document:
    """One YAML document: its data (plain dicts/lists/scalars) and where each part came from."""

    file: str
    index: int
    data: Any
    #: Where each value and key starts, as a position (:func:`_position`), made a Location only when asked for.
    #: Ints, not the parser's marks: a thousand rendered sessions kept 176,000 marks, and the garbage
    #: collector's full passes over them were half of reading the sessions.
    values: dict[Path, int] = field(default_factory=dict)
    keys: dict[Path, int] = field(default_factory=dict)

    def location(self, path: Path, key: bool = False) -> Location:
        """Where ``path`` is (its key when ``key``); falls back to the nearest enclosing node."""
        path = tuple(path)
        while True:
            table = self.keys if key else self.values
            if path in table:
                return self._at(table[path])
            if key and path in self.values:
                return self._at(self.values[path])
            if not path:
                return Location(self.file, 1, 1)
            path = path[:-1]

    def _at(self, position: int) -> Location:
        line, column = divmod(position, _COLUMNS)
        return Location(self.file, line + 1, column + 1)


#: A position is ``line * _COLUMNS + column`` (0-based, as the parser counts): one int, which the garbage
#: collector does not track. A manifest is at most 5 MB, so a column is always below this.
_COLUMNS = 1 << 32


def _position(mark: Any) -> int:
    return mark.line * _COLUMNS + mark.column


def _loc(file: str, node: Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Converter:
    def __init__(self, file: str, doc: Document) -> None:
        self.file = file
        self.doc = doc
        self.values = doc.values
        self.keys = doc.keys
        self.count = 0
        self._constructor: yaml.SafeLoader | None = None

    @property
    def constructor(self) -> yaml.SafeLoader:
        """The safe loader whose scalar constructors make ints, floats and dates (made when first needed:
        most documents have none, and making one cost a tenth of reading a rendered session)."""
        if self._constructor is None:
            self._constructor = yaml.SafeLoader("")
        return self._constructor

    def convert(self, node: Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            # Point at the top-level key whose value blew up, not at a node deep inside the aliases.
            where = self.doc.location(path[:1], key=True) if path[:1] in self.keys else None
            raise ManifestError([Finding(where or _loc(self.file, node),
                                         f"document expands to more than {MAX_NODES:,} nodes",
                                         "aliases (*name) that refer to each other multiply; this looks like an alias bomb")])
        self.values.setdefault(path, _position(node.start_mark))
        if isinstance(node, ScalarNode):
            return node.value if node.tag == _STR else self._scalar(node)
        if isinstance(node, SequenceNode):
            if node.tag != _STD + "seq":
                raise self._bad_tag(node)
            return [self.convert(child, path + (i,)) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            if node.tag != _STD + "map":
                raise self._bad_tag(node)
            return self._mapping(node, path)
        raise self._bad_tag(node)  # pragma: no cover - PyYAML has no other node kinds

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag == _STR:
            return node.value  # most scalars: the constructor would return the same string, 5x slower
        if node.tag == _BOOL:  # the constructor's own table (yes/no/on/off/true/false), without its overhead
            return _BOOL_VALUES[node.value.lower()]
        if node.tag == _NULL:
            return None
        if node.tag not in _SCALAR_TAGS:
            raise self._bad_tag(node)
        value = self.constructor.construct_object(node, deep=True)
        if isinstance(value, (_dt.date, _dt.datetime)):
            return value.isoformat()
        return value

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        seen: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _STD + "merge":
                merged = self.convert(value_node, path)
                sources = merged if isinstance(merged, list) else [merged]
                for source in sources:
                    if not isinstance(source, dict):
                        raise ManifestError([Finding(_loc(self.file, value_node), "'<<' must merge a mapping")])
                    for k, v in source.items():
                        result.setdefault(k, v)
                continue
            if not isinstance(key_node, ScalarNode):
                raise ManifestError([Finding(_loc(self.file, key_node), "mapping keys must be plain text",
                                             "use a simple name as key")])
            key = key_node.value if key_node.tag == _STR else self._scalar(key_node)
            if isinstance(key, (list, dict)) or key is None:
                raise ManifestError([Finding(_loc(self.file, key_node), "mapping keys must be plain text")])
            if key in seen:
                raise ManifestError([Finding(_loc(self.file, key_node),
                                             f"duplicate key '{key}' (first defined at line {seen[key].line + 1})",
                                             "YAML would silently keep only the last one; remove or rename one of them")])
            mark = seen[key] = key_node.start_mark
            child = path + (key,)
            self.keys[child] = _position(mark)
            result[key] = self.convert(value_node, child)
        return result

    def _bad_tag(self, node: Node) -> ManifestError:
        return ManifestError([Finding(_loc(self.file, node), f"tag '{node.tag}' is not allowed in a manifest",
                                      "manifests are plain data: remove the !!tag")])


def _yaml_error(file: str, exc: yaml.YAMLError) -> ManifestError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark is not mark:
        context = f"{context} that starts at line {context_mark.line + 1}"
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    hint = "check indentation and quoting on this line and the one before"
    if "\\t" in problem or "\t" in problem or "tab" in problem.lower():
        message = "YAML syntax error: a tab character is used for indentation"
        hint = "YAML indentation must use spaces, not tabs"
    return ManifestError([Finding(Location(file, line, column), message, hint)])


def load_documents(text: str, file: str) -> Iterator[Document]:
    """Yield each non-empty document of ``text``; raises ManifestError with a location on bad YAML."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        raise _yaml_error(file, exc) from None
    except RecursionError:
        raise ManifestError([Finding(Location(file, 1, 1), "YAML is nested too deeply",
                                     "manifests are a few levels deep; check the file")]) from None
    for index, node in enumerate(nodes):
        if node is None:
            continue
        doc = Document(file=file, index=index, data=None)
        try:
            doc.data = _Converter(file, doc).convert(node, ())
        except RecursionError:
            raise ManifestError([Finding(_loc(file, node), "YAML is nested too deeply")]) from None
        yield doc
