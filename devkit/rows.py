"""A bulk file's rows as canonical changes: CSV or JSON Lines, of customers or of changes, read as a stream.

Every row becomes a set of canonical paths and values, then a ``CustomerChange``:

- customer fields: ``key``, ``first_name``, ``last_name``, ``company``, ``email``, ``phones.main``, ...,
  ``address.city``, ..., ``website``, ``status``, ``notes``, ``attributes.<name>`` (any name); a
  ``customer.`` prefix is allowed (``customer.email``), so a flattened ``CustomerChange`` reads as it is;
- the change's own: ``change_id``, ``occurred_at``, ``source``, ``vendor_ids.<vendor>`` (``vendor_ids.exigo``,
  ``vendor_ids.exigo.extended_group_id``).

A CSV's header names the columns; a column whose name is not a canonical path is mapped by a mapping file
(``columns: {"E-mail": email, "Customer No": key, "Tier": attributes.tier, "Internal": ~}``, ``~`` ignores
a column). An empty CSV cell is "not sent" (the vendor keeps its value); to clear a field, send JSON Lines
with ``null``. A JSON Lines object is flattened the same way: ``{"key": .., "address": {"city": ..}}`` (a
customer) or ``{"change_id": .., "customer": {..}}`` (a change), its paths mapped like CSV columns.

A row without ``change_id`` gets one derived from its content (``bulk-`` and a digest of the source, the
customer as validated, the vendor ids and an ``occurred_at`` the row gives): the same row always gets the same
id, so it is the same change however often the file is loaded. ``occurred_at``, when the row has none, is the
caller's default (``custsync enqueue``: the file's modification time), and ``source`` too (``batch``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from custsync.model import Customer, CustomerChange, Partial
from devkit.inputs import InputError

FileFormat = Literal["csv", "jsonl"]
FORMATS: dict[str, FileFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
CHANGE_FIELDS = ("change_id", "occurred_at", "source")
# Paths whose last part is a free key, not a field: custom attributes and vendor ids (which may hold dots).
FREE_KEYS = ("attributes", "vendor_ids")
MAX_PROBLEMS_PER_ROW = 5
NO_ID = "-"  # a row's change id until its own is derived
DERIVED_PREFIX = "bulk-"
DERIVED_ID_CHARS = 45  # the prefix and 40 hex digits of SHA-256 (160 bits)


def customer_fields() -> list[str]:
    """Every canonical customer path but ``attributes.<name>``, from the model (``address.city``...)."""
    paths = []
    for name, info in Customer.model_fields.items():
        nested = [arg for arg in typing.get_args(info.annotation) if isinstance(arg, type) and issubclass(arg, Partial)]
        if nested:
            paths += [f"{name}.{sub}" for sub in nested[0].model_fields]
        elif name not in FREE_KEYS:
            paths.append(name)
    return paths


CUSTOMER_FIELDS = frozenset(customer_fields())
KNOWN_PATHS = ", ".join([*customer_fields(), "attributes.<name>", *CHANGE_FIELDS, "vendor_ids.<vendor>"])


def canonical(path: str) -> str | None:
    """``path`` as the canonical path it names (``customer.email`` -> ``email``), or None when it names none."""
    bare = path.removeprefix("customer.")
    if bare in CUSTOMER_FIELDS or (bare.startswith("attributes.") and len(bare) > len("attributes.")):
        return bare
    if path in CHANGE_FIELDS or (path.startswith("vendor_ids.") and len(path) > len("vendor_ids.")):
        return path
    return None


@dataclass(frozen=True)
class ColumnMapping:
    """File column (or flattened JSON path) -> canonical path; None ignores the column."""

    columns: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ColumnMapping:
        """A mapping file: YAML (or JSON) ``{columns: {<column>: <canonical path or ~>}}``."""
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise InputError(f"{path}: {exc.strerror or exc}") from exc
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
        columns = data.get("columns") if isinstance(data, dict) else None
        if not isinstance(columns, dict) or set(data) != {"columns"}:
            raise InputError(f"{path}: must be a mapping with one key, columns: {{<column>: <canonical path or ~>}}")
        mapped: dict[str, str | None] = {}
        for column, target in columns.items():
            if target is not None and (not isinstance(target, str) or canonical(target) is None):
                raise InputError(f"{path}: columns: {column}: {target!r} is not a canonical path ({KNOWN_PATHS})")
            mapped[str(column)] = canonical(target) if isinstance(target, str) else None
        return cls(mapped)

    def target(self, column: str) -> str | None:
        """The canonical path ``column`` maps to, None for an ignored column; ``KeyError`` when it maps to none."""
        if column in self.columns:
            return self.columns[column]
        found = canonical(column)
        if found is None:
            raise KeyError(column)
        return found

    def column_of(self, path: str) -> str | None:
        """The column mapped onto canonical ``path`` (for an error message), if it was renamed."""
        for column, target in self.columns.items():
            if target == path:
                return column
        return None


@dataclass(frozen=True)
class Defaults:
    source: str
    occurred_at: datetime


@dataclass(frozen=True)
class Problem:
    """Why one row cannot be a change: its line and each field's problem."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Row:
    line: int
    change: CustomerChange


def file_format(path: Path, given: str | None) -> FileFormat:
    if given is not None:
        return "csv" if given == "csv" else "jsonl"
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InputError(f"{path}: cannot tell the format from its name: give --format csv or --format jsonl")
    return found


def rows(
    file: typing.TextIO,
    path: Path,
    fmt: FileFormat,
    mapping: ColumnMapping,
    defaults: Defaults,
    derive_ids: bool = True,
) -> Iterator[Row | Problem]:
    """Each row of ``file`` (``path``, opened with ``newline=""``) in order: the change it is, or its problem.
    Streams: one row in memory at a time. ``derive_ids`` False leaves a row without ``change_id`` with ``-``
    (checking a file needs no ids)."""
    records = _csv_records(file, path, mapping) if fmt == "csv" else _jsonl_records(file, mapping)
    for line, values in records:
        yield values if isinstance(values, Problem) else change_of(line, values, defaults, mapping, derive_ids)


def change_of(
    line: int, values: dict[str, Any], defaults: Defaults, mapping: ColumnMapping, derive_ids: bool = True
) -> Row | Problem:
    """The change one row's canonical values make, validated, its id derived when it has none."""
    customer: dict[str, Any] = {}
    body: dict[str, Any] = {"source": defaults.source, "occurred_at": defaults.occurred_at, "customer": customer}
    vendor_ids: dict[str, Any] = {}
    for path, value in values.items():
        if path in CHANGE_FIELDS:
            body[path] = value
        elif path.startswith("vendor_ids."):
            vendor_ids[path.removeprefix("vendor_ids.")] = value
        else:
            head, _, rest = path.partition(".")
            if rest:
                customer.setdefault(head, {})[rest] = value
            else:
                customer[head] = value
    if vendor_ids:
        body["vendor_ids"] = vendor_ids
    given_id = body.get("change_id")
    body.setdefault("change_id", NO_ID)  # replaced below by the derived id
    try:
        change = CustomerChange.model_validate(body)
    except ValidationError as exc:
        return Problem(line, _described(exc, mapping))
    if given_id is None and derive_ids:
        change = change.model_copy(update={"change_id": derived_id(change, "occurred_at" in values)})
    return Row(line, change)


def derived_id(change: CustomerChange, occurred_at_given: bool) -> str:
    """``bulk-`` and a digest of what the row says: the same content always makes the same id."""
    content = {
        "source": change.source,
        "customer": change.customer.model_dump(mode="json", exclude_unset=True),
        "vendor_ids": change.vendor_ids,
        "occurred_at": change.occurred_at.isoformat() if occurred_at_given else None,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DERIVED_PREFIX + hashlib.sha256(text.encode()).hexdigest()[: DERIVED_ID_CHARS - len(DERIVED_PREFIX)]


def _described(exc: ValidationError, mapping: ColumnMapping) -> str:
    problems = []
    for error in exc.errors()[:MAX_PROBLEMS_PER_ROW]:
        parts = [str(part) for part in error["loc"]]
        path = ".".join(parts[1:] if parts[:1] == ["customer"] else parts) or "row"
        column = mapping.column_of(path)
        named = f"{column} ({path})" if column else path
        problems.append(f"{named}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(problems)


def _csv_records(
    file: typing.TextIO, path: Path, mapping: ColumnMapping
) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
    reader = csv.reader(file)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(f"{path}: line 1: not CSV ({exc})") from exc
    targets = _header_targets(path, header, mapping)
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, Problem(line, f"not CSV ({exc})")
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not record:
            continue
        if len(record) != len(targets):
            yield start, Problem(start, f"has {len(record)} fields; the header has {len(targets)}")
            continue
        yield start, {target: value for target, value in zip(targets, record, strict=True) if target and value != ""}


def _header_targets(path: Path, header: list[str], mapping: ColumnMapping) -> list[str | None]:
    targets: list[str | None] = []
    unknown = []
    for column in header:
        try:
            targets.append(mapping.target(column.strip()))
        except KeyError:
            unknown.append(column)
            targets.append(None)
    if unknown:
        names = ", ".join(repr(column) for column in unknown)
        raise InputError(
            f"{path}: line 1: column {names} is not a canonical field: map it with --mapping "
            f"(columns: {{<column>: <path>}}, or ~ to ignore it); canonical: {KNOWN_PATHS}"
        )
    seen: dict[str, str] = {}
    for column, target in zip(header, targets, strict=True):
        if target is not None and target in seen:
            raise InputError(f"{path}: line 1: columns {seen[target]!r} and {column!r} both map to {target}")
        if target is not None:
            seen[target] = column
    return targets


def _jsonl_records(file: typing.TextIO, mapping: ColumnMapping) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
    for line, text in enumerate(file, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line, Problem(line, f"not valid JSON ({exc.msg} at character {exc.pos + 1})")
            continue
        if not isinstance(data, dict):
            yield line, Problem(line, "must be a JSON object (a customer or a change)")
            continue
        values: dict[str, Any] = {}
        unknown = []
        for flat, value in _flattened(data):
            try:
                target = mapping.target(flat)
            except KeyError:
                unknown.append(flat)
                continue
            if target is not None:
                values[target] = value
        if unknown:
            yield line, Problem(line, f"{', '.join(unknown)}: not a canonical field (map it with --mapping)")
            continue
        yield line, values


def _flattened(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path.removeprefix("customer.") in FREE_KEYS:
            for free, item in value.items():
                yield f"{path}.{free}", item
        elif isinstance(value, dict):
            yield from _flattened(value, f"{path}.")
        else:
            yield path, value
