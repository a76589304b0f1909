"""Files and names a user hands the ``custsync`` command, read with errors that say what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """Something the user gave is missing or malformed: reported in one line, without a traceback."""


def read_json_object(path: Path, holds: str) -> dict[str, Any]:
    """The JSON object in ``path``; ``holds`` says what it should map, for the error message."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    return json_object(text, str(path), holds)


def json_object(text: str, where: str, holds: str) -> dict[str, Any]:
    """The JSON object ``text`` (read from ``where``); errors give its position, never its content."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from exc
    if not isinstance(value, dict):
        raise InputError(f"{where}: must be a JSON object {holds}")
    return value
