"""Safe YAML reading that remembers where every key and item was written.

Mappings become :class:`YDict` and sequences :class:`YList`; both are ordinary ``dict``/``list``
subclasses carrying positions, so schema and semantic checks can point at ``file:line:column``
long after merging packs together.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from .problems import Position


class YDict(dict):
    """A mapping read from YAML; ``pos`` is the mapping's position, ``key_pos`` each key's."""

    pos: Position
    key_pos: dict[str, Position]

    def __init__(self, items: Iterable[tuple[Any, Any]] = (), pos: Position | None = None,
                 key_pos: dict[str, Position] | None = None):
        super().__init__(items)
        self.pos = pos or Position("")
        self.key_pos = dict(key_pos or {})


class YList(list):
    """A sequence read from YAML; ``pos`` is the sequence's position, ``item_pos`` each item's."""

    pos: Position
    item_pos: list[Position]

    def __init__(self, items: Iterable[Any] = (), pos: Position | None = None,
                 item_pos: list[Position] | None = None):
        super().__init__(items)
        self.pos = pos or Position("")
        self.item_pos = list(item_pos or [])


class YAMLSyntaxError(Exception):
    def __init__(self, message: str, position: Position):
        super().__init__(message)
        self.message = message
        self.position = position


class DuplicateKeyError(YAMLSyntaxError):
    pass


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# libyaml's composer is ~7x faster than the pure-Python one and gives the same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _position(file: str, node: yaml.Node) -> Position:
    return Position(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed YAML node tree into YDict/YList/scalars, using SafeLoader's scalar rules."""

    # Aliases are expanded as they are built; a cap stops "billion laughs" documents.
    MAX_NODES = 2_000_000
    # No pack nests deeper than a dozen levels; a cap keeps every later recursive step (schema, merge) safe.
    MAX_DEPTH = 100

    def __init__(self, file: str):
        self.file = file
        self.constructor = yaml.SafeLoader("")
        self.built = 0

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.built += 1
        if self.built > self.MAX_NODES:
            raise YAMLSyntaxError("YAML 文档过大或别名展开过多 (document too large after alias expansion)",
                                  _position(self.file, node))
        if depth > self.MAX_DEPTH:
            raise YAMLSyntaxError(f"YAML 嵌套超过 {self.MAX_DEPTH} 层 (nesting too deep)", _position(self.file, node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            items = [self.build(child, depth + 1) for child in node.value]
            return YList(items, _position(self.file, node), [_position(self.file, c) for c in node.value])
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == _STR_TAG:
            return node.value  # most scalars of a pack are text; skip the generic constructor
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception as exc:  # noqa: BLE001
            # SafeLoader's constructors raise assorted errors for bad values: an impossible date
            # (2026-13-01), an empty "!!int", "!!bool maybe". Any of them is a mistake in the file.
            raise YAMLSyntaxError(f"YAML 值无法识别 ({exc}): {node.value!r}", _position(self.file, node)) from None

    def _mapping(self, node: yaml.MappingNode, depth: int) -> YDict:
        if any(key.tag == _MERGE_TAG for key, _ in node.value):
            self.constructor.flatten_mapping(node)  # "<<: *anchor" merge keys
        result = YDict(pos=_position(self.file, node))
        for key_node, value_node in node.value:
            key = self._scalar(key_node)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise YAMLSyntaxError("键必须是简单值 (a key must be a plain scalar)", _position(self.file, key_node))
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                raise DuplicateKeyError(f'重复的键 "{key}" (duplicate key)', _position(self.file, key_node))
            result[key] = self.build(value_node, depth + 1)
            result.key_pos[key] = _position(self.file, key_node)
        return result


def load_yaml(text: str, file: str) -> Any:
    """Parse one YAML document safely (no tags beyond YAML's own); raise YAMLSyntaxError with a position."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file)
        raise YAMLSyntaxError(f"YAML 语法错误: {exc.problem or exc.context}", pos) from None
    except yaml.YAMLError as exc:
        raise YAMLSyntaxError(f"YAML 语法错误: {exc}", Position(file)) from None
    except RecursionError:
        raise YAMLSyntaxError("YAML 嵌套过深 (nesting too deep)", Position(file)) from None
    if node is None:
        return None
    try:
        return _Builder(file).build(node)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        pos = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file)
        raise YAMLSyntaxError(f"YAML 值无法识别: {exc.problem}", pos) from None
    except RecursionError:
        raise YAMLSyntaxError("YAML 嵌套过深 (nesting too deep)", Position(file)) from None


def locate(root: Any, path: Iterable[Any], default: Position) -> Position:
    """The position of the value at ``path`` (keys and indexes), or of its nearest written ancestor."""
    best = getattr(root, "pos", None) or default
    node = root
    for step in path:
        if isinstance(node, YDict) and step in node:
            best = node.key_pos.get(step, best)
            node = node[step]
        elif isinstance(node, YList) and isinstance(step, int) and 0 <= step < len(node):
            best = node.item_pos[step] if step < len(node.item_pos) else best
            node = node[step]
        else:
            break
    if not best.file:
        return default
    return best
