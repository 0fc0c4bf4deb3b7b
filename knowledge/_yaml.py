"""YAML loading that keeps line numbers, so content errors can point at the offending key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

ProblemSink = Callable[[int | None, str], None]


@dataclass(frozen=True)
class YamlDoc:
    """Constructed YAML data plus its node tree, for looking up file line numbers."""

    data: Any
    node: yaml.Node
    first_line: int

    def _line(self, node: yaml.Node) -> int:
        return node.start_mark.line + self.first_line

    def _walk(self, path: tuple[str | int, ...]) -> tuple[yaml.Node, yaml.Node | None]:
        """(deepest node reached, the key node of the last step if it was a mapping key)."""
        node = self.node
        key_node: yaml.Node | None = None
        for step in path:
            key_node = None
            if isinstance(node, yaml.MappingNode):
                match = next(
                    ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)
                     and k.value == str(step)),
                    None,
                )
                if match is None:
                    break
                key_node, node = match
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if not 0 <= step < len(node.value):
                    break
                node = node.value[step]
            else:
                break
        return node, key_node

    def line_of(self, *path: str | int) -> int:
        """File line of a key (or list item) reached through path; the nearest parent if absent."""
        node, key_node = self._walk(path)
        return self._line(key_node if key_node is not None else node)

    def sub(self, *path: str | int) -> YamlDoc:
        """The document rooted at the node reached through path."""
        node, _ = self._walk(path)
        data = self.data
        for step in path:
            data = data[step]
        return YamlDoc(data, node, self.first_line)


def _duplicate_keys(node: yaml.Node, first_line: int, problems: ProblemSink) -> None:
    """Report repeated mapping keys, which PyYAML would silently collapse to the last one."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + first_line
                if key.value in seen:
                    problems(line, f"duplicate key '{key.value}' (first on line {seen[key.value]})")
                seen.setdefault(key.value, line)
            _duplicate_keys(value, first_line, problems)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_keys(item, first_line, problems)


def load_yaml(text: str, first_line: int, problems: ProblemSink) -> YamlDoc | None:
    """Parse one YAML document whose first line is file line first_line; None on a syntax error."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(None, yaml.MappingNode("tag:yaml.org,2002:map", []), first_line)
        _duplicate_keys(node, first_line, problems)
        data = loader.construct_document(node)
        return YamlDoc(data, node, first_line)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark is not None else None
        problems(line, f"invalid YAML: {exc.problem or exc.context}")
        return None
    except yaml.YAMLError as exc:
        problems(None, f"invalid YAML: {exc}")
        return None
    finally:
        loader.dispose()

