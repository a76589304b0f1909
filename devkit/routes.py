"""``custsync routes check``: validate the routing file and show what a sample webhook would send where.

Checks the file (or ``--routing PATH``) as the functions do at cold start, that its vendors and the
template's vendor functions are the same set, and that every field map names fields its vendor has. With
``--event`` (an API Gateway event for ``POST /webhooks/{source}``, like ``events/webhook/*.json``), the
payload is mapped as the webhook and each vendor would map it (no signature check, no vendor call, no AWS)
and, for each change, each vendor's calls are printed with the names of the fields they carry: never values.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from custsync import routing
from custsync.config import VendorSettings
from custsync.connector import Connector, SyncContext
from custsync.deletion import deactivation, delete_action
from custsync.engine import ids_for_vendor
from custsync.errors import SyncError
from custsync.model import CustomerChange
from custsync.observability import logger
from custsync.sources import SOURCES
from custsync.webhook import webhook_request
from devkit.inputs import InputError, read_json_object
from devkit.stack.template import Template


def template_vendors(root: Path) -> dict[str, str]:
    """vendor name -> its function's folder, for every vendor function of the template."""
    vendors = {}
    for logical_id in Template(root / "template.yaml").of_type("AWS::Serverless::Function"):
        spec = Template(root / "template.yaml").function(logical_id)
        if "VENDOR" in spec.environment:
            vendors[str(spec.environment["VENDOR"])] = spec.code_uri.name
    return vendors


def connector_class(root: Path, folder: str) -> type[Connector]:
    """The ``Connector`` subclass in ``functions/<folder>/connector.py``."""
    if str(root / "functions") not in sys.path:
        sys.path.insert(0, str(root / "functions"))
    module = importlib.import_module(f"{folder}.connector")
    found: type[Connector] = next(
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Connector) and value is not Connector
    )
    return found


def connector(root: Path, vendor: str, folder: str, routes: routing.Routing) -> Connector:
    """The vendor's connector, configured from the routing and its secret's example (nothing is ever sent)."""
    cls = connector_class(root, folder)
    settings = VendorSettings(vendor=vendor, state_table="-", vendor_secret_name="-", dlq_url="-")
    config = routes.vendor(vendor)
    settings = settings.model_copy(update={"field_map": dict(config.field_map), "vendor_options": dict(config.options)})
    return cls(settings, lambda force: cls.secret_model.example())


def check(root: Path, routing_path: Path | None, event_path: Path | None, out: TextIO) -> int:
    # The functions' own logging (a WSDL parsed...) is not this command's output; the level is given back after,
    # as the logger is the process's (the tests' in-process functions log through it).
    level = logger.log_level
    logger.setLevel(logging.WARNING)
    try:
        return _check(root, routing_path, event_path, out)
    finally:
        logger.setLevel(level)


def _check(root: Path, routing_path: Path | None, event_path: Path | None, out: TextIO) -> int:
    path = routing_path or routing.SHIPPED
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    functions = template_vendors(root)
    routes = routing.parse(path.read_text(), path.name, set(functions))
    unknown = sorted(set(routes.vendors) - set(functions))
    if unknown:
        raise InputError(f"{path.name}: vendors {unknown} are not vendor functions of the template")
    connectors = {vendor: connector(root, vendor, folder, routes) for vendor, folder in functions.items()}
    out.write(f"routing {path.name}: valid; every field map names fields its vendor has\n")
    for source, routed in routes.sources.items():
        if routed.vendors == "all":
            out.write(f"  {source} -> all: {', '.join(functions)}\n")
            continue
        described = [
            r.vendor + (f" when {r.when.model_dump(exclude_none=True)}" if r.when else "") for r in routed.vendors
        ]
        out.write(f"  {source} -> {', '.join(described)}\n")
    for vendor in functions:
        mapped = ", ".join(f"{field} <- attributes.{a}" for field, a in routes.vendor(vendor).field_map.items())
        status_field = connectors[vendor].status_field
        on_delete = delete_action(routes, vendor, status_field)
        deleted = f"{on_delete} ({status_field})" if on_delete == "deactivate" else on_delete
        out.write(f"  {vendor}: {mapped or 'no custom fields'}; a deleted customer: {deleted}\n")
    if event_path is not None:
        show_event(read_json_object(event_path, "(an API Gateway event)"), event_path, routes, connectors, out)
    return 0


def show_event(
    event: dict[str, Any], path: Path, routes: routing.Routing, connectors: dict[str, Connector], out: TextIO
) -> None:
    source_name = str(
        (event.get("pathParameters") or {}).get("source") or str(event.get("path", "")).rsplit("/", 1)[-1]
    )
    source = SOURCES.get(source_name)
    if source is None:
        raise InputError(f"{path}: '{source_name}' is not a webhook source ({', '.join(SOURCES)})")
    changes = source.normalise(webhook_request(event))
    out.write(f"{path.name} ({source_name}): {len(changes)} change(s)\n")
    if changes.ignored:
        out.write(f"  not handled, acknowledged: {', '.join(changes.ignored)}\n")
    for change in changes:
        out.write(f"  change {change.change_id}, customer {change.customer.key}\n")
        for vendor in routes.vendors_for(source_name, connectors):
            out.write(f"    {vendor}: {describe(vendor, change, routes, connectors[vendor])}\n")


def describe(vendor: str, change: CustomerChange, routes: routing.Routing, mapper: Connector) -> str:
    if change.kind == "erase":
        return "erase: its state row and parked messages; no vendor call"
    if change.kind == "delete":
        if delete_action(routes, vendor, mapper.status_field) == "ignore":
            return "delete: ignored (routing on_delete)"
        change = deactivation(change)
    unmet = routes.unmet(change.source, vendor, change.customer)
    if unmet is not None:
        return f"held back: {unmet}"
    context = SyncContext(ids=ids_for_vendor(vendor, change.vendor_ids))
    try:
        request = mapper.to_request(change.customer, context)
    except SyncError as exc:
        return f"not sent: {exc.reason}"
    calls = [f"{call.operation} [{', '.join(field_names(call.payload))}]" for call in request.calls]
    return "; ".join(calls) or "nothing to send"


def field_names(payload: Any, prefix: str = "") -> list[str]:
    """The names of the fields a payload carries (nested ones dotted), never their values."""
    names: list[str] = []
    for name, value in sorted(payload.items()):
        if isinstance(value, dict):
            names.extend(field_names(value, f"{prefix}{name}."))
        else:
            names.append(f"{prefix}{name}")
    return names
