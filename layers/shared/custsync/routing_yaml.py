"""The routing file's YAML: how it is read (YAML 1.2's booleans only) and where each of its keys is.

PyYAML and nothing of custsync, so that the layer's build can read the shipped file with it
(``layers/shared/routing_json.py``) and a function reads the result, JSON, without loading PyYAML.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

YAMLError = yaml.YAMLError


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml's when built
    """YAML 1.2's booleans only: in YAML 1.1 ``NO`` (Norway), ``yes`` and ``off`` are booleans too."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(text: str) -> Any:
    """The document's data; ``YAMLError`` (with a ``problem_mark``) when it is not YAML."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506  # nosec B506


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Every key path of the document and the line (1-based) it starts on."""
    return _lines(yaml.compose(text, Loader=_Loader))


def _lines(node: yaml.Node | None, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    if node is None:
        return {}
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(_lines(value, (*path, str(key.value))))
            found[(*path, str(key.value))] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.update(_lines(item, (*path, str(index))))
    return found
