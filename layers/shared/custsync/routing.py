"""Routing and field mapping, as configuration: which vendors get each source's changes, on what conditions,
and how canonical ``attributes`` map onto each vendor's custom fields.

The file ships in the layer (``custsync/routing.yaml``, and its data as ``routing.json``, written by the
layer's build, so that a cold start reads it without PyYAML) and is validated at cold start; a deployment can
replace it with the YAML of an SSM parameter (``ROUTING_PARAMETER``, read through Powertools Parameters and
cached for ``CACHE_SECONDS``) without a code change. A file that does not validate fails the cold start, the
message naming the line; a parameter that stops validating later is logged and the last good routing kept.

Conditions are checked by each vendor function on the customer as merged from every change it holds (a
partial change alone does not say which country or tags its customer has). A customer that does not match
is held back, its fields kept; when it comes to match, the vendor gets the whole record.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from custsync import aws
from custsync.errors import ConfigurationError
from custsync.model import CountryCode, Customer
from custsync.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

# pydantic's name for a branch of a union in an error's location (list[Route], literal['all']): not a key.
_UNION_TAG = re.compile(r"^\w+\[.*\]$")
SHIPPED = Path(__file__).with_name("routing.yaml")
# The shipped file's data as JSON, written beside it by the layer's build (layers/shared/routing_json.py): read
# at cold start without loading PyYAML (~100 M instructions, a tenth of what a function adds to boto3 and httpx).
SHIPPED_JSON = SHIPPED.with_suffix(".json")
CACHE_SECONDS = 300


class Conditions(BaseModel):
    """All must hold for the customer to be routed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    countries: list[CountryCode] | None = Field(default=None, description="address.country is one of these")
    tags: list[str] | None = Field(default=None, description="attributes.tags (comma-separated) has one of these")
    attributes: dict[str, list[str]] | None = Field(default=None, description="attribute -> one of these values")

    def unmet(self, customer: Customer) -> str | None:
        """Why ``customer`` is not routed, or None when it is."""
        country = customer.address.country if customer.address else None
        if self.countries is not None and country not in self.countries:
            return f"address.country {country or 'unknown'} is not one of {', '.join(self.countries)}"
        if self.tags is not None:
            held = {tag.strip().lower() for tag in (customer.attribute("tags") or "").split(",") if tag.strip()}
            if held.isdisjoint(tag.lower() for tag in self.tags):
                return f"attributes.tags has none of {', '.join(self.tags)}"
        for name, allowed in (self.attributes or {}).items():
            if customer.attribute(name) not in allowed:
                return f"attributes.{name} is not one of {', '.join(allowed)}"
        return None


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor: str
    when: Conditions | None = None


class SourceRoutes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vendors: list[Route] | Literal["all"]

    @field_validator("vendors", mode="before")
    @classmethod
    def _names_or_routes(cls, value: Any) -> Any:
        """``[exigo, {vendor: everlytic, when: {...}}]``: a bare name is a route without conditions."""
        return (
            [{"vendor": item} if isinstance(item, str) else item for item in value]
            if isinstance(value, list)
            else value
        )

    @field_validator("vendors")
    @classmethod
    def _known(cls, value: list[Route] | str, info: ValidationInfo) -> list[Route] | str:
        """When the vendors that exist are known (the caller's context), a route names one of them."""
        known = (info.context or {}).get("vendors")
        if known is not None and isinstance(value, list):
            for index, route in enumerate(value):
                if route.vendor not in known:
                    raise PydanticCustomError(
                        "unknown_vendor", "{index}: '{vendor}' is not a vendor ({known})",
                        {"index": index, "vendor": route.vendor, "known": ", ".join(sorted(known))},
                    )  # fmt: skip
        return value


DeleteAction = Literal["deactivate", "ignore"]


class VendorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field_map: dict[str, str] = Field(default_factory=dict, description="vendor field -> canonical attribute")
    options: dict[str, Any] = Field(default_factory=dict, description="the connector's own options")
    on_delete: DeleteAction | None = Field(
        default=None,
        description="what a customer deleted at the source becomes here: deactivate (the vendor's inactive status, "
        "through its update call) or ignore; default: deactivate where the vendor has a status field",
    )

    def delete_action(self, status_field: str | None) -> DeleteAction:
        """``on_delete``, or its default for a vendor with (or without) a status field."""
        return self.on_delete or ("deactivate" if status_field else "ignore")


class Routing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceRoutes]
    vendors: dict[str, VendorConfig] = Field(default_factory=dict)

    def vendors_for(self, source: str, known: Iterable[str]) -> list[str]:
        """The vendors (of ``known``, the ones there are) ``source``'s changes go to."""
        routes = self.sources.get(source)
        if routes is None:
            return []
        if routes.vendors == "all":
            return list(known)
        routed = {route.vendor for route in routes.vendors}
        return [vendor for vendor in known if vendor in routed]

    def vendor(self, name: str) -> VendorConfig:
        """A vendor's field map and options (none when the file has no entry for it)."""
        return self.vendors.get(name, VendorConfig())

    def unmet(self, source: str, vendor: str, customer: Customer) -> str | None:
        """Why ``customer``'s change from ``source`` is not for ``vendor``, or None. A source the routing does
        not name (an operator batch, the sync API) has no conditions."""
        routes = self.sources.get(source)
        if routes is None or routes.vendors == "all":
            return None
        for route in routes.vendors:
            if route.vendor == vendor:
                return route.when.unmet(customer) if route.when else None
        return f"source {source} is not routed to {vendor}"


def parse(text: str, origin: str, known: Collection[str] | None = None) -> Routing:
    """``text`` (YAML) as routing, or a ``ConfigurationError`` naming ``origin``, the line and the problem;
    ``known``: the vendors there are, when the caller knows them (a route must name one)."""
    from custsync import routing_yaml  # PyYAML: only where YAML is read (not the shipped file, in a built layer)

    try:
        data = routing_yaml.load(text)
    except routing_yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigurationError(f"routing {origin}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    try:
        return Routing.model_validate(data, context={"vendors": known})
    except ValidationError as exc:
        lines = routing_yaml.key_lines(text)  # where each key is, only to name a problem's line
        problems = []
        # A list of routes failing is also "not 'all'", the other form: that second error says nothing.
        errors = [e for e in exc.errors() if not (e["type"] == "literal_error" and not isinstance(e["input"], str))]
        for error in errors[:5]:
            path = [str(part) for part in error["loc"] if not _UNION_TAG.match(str(part))]
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "unknown_vendor":  # names the route's index itself
                index, message = message.split(": ", 1)
                path.append(index)
            problems.append(f"{origin}:{_line_of(lines, path)}: {'.'.join(path) or 'routing'}: {message}")
        raise ConfigurationError("invalid routing: " + "; ".join(problems)) from exc


def _line_of(lines: Mapping[tuple[str, ...], int], path: list[str]) -> int:
    """The line of the longest prefix of ``path`` the document has."""
    for end in range(len(path), -1, -1):
        if tuple(path[:end]) in lines:
            return lines[tuple(path[:end])]
    return 1


# -- the routing in force -------------------------------------------------------------------------------------
_lock = threading.Lock()
_last_good: Routing | None = None


def current(known: Collection[str] | None = None) -> Routing:
    """The SSM parameter's routing when ``ROUTING_PARAMETER`` names one, else the shipped file's."""
    global _last_good
    name = os.environ.get("ROUTING_PARAMETER", "")
    frozen = frozenset(known) if known is not None else None
    if not name:
        return _shipped(frozen)
    text = _parameter(name)
    with _lock:
        try:
            _last_good = _parsed(text, f"SSM {name}", frozen)
        except ConfigurationError as exc:
            if _last_good is None:
                raise
            metrics.add_metric(name="RoutingRejected", unit="Count", value=1)
            logger.error("routing parameter no longer valid; keeping the last good routing", extra={"reason": str(exc)})
        return _last_good


@functools.lru_cache(maxsize=8)
def _parsed(text: str, origin: str, known: frozenset[str] | None) -> Routing:
    return parse(text, origin, known)


@functools.lru_cache(maxsize=8)
def _shipped(known: frozenset[str] | None) -> Routing:
    """The shipped routing: from its JSON twin in a built layer, validated as the YAML's data would be; from
    the YAML itself in a source tree, or when the twin does not validate (then the YAML's error names the line)."""
    if SHIPPED_JSON.exists():
        try:
            return Routing.model_validate(json.loads(SHIPPED_JSON.read_text()), context={"vendors": known})
        except ValidationError:
            pass
    return _parsed(SHIPPED.read_text(), SHIPPED.name, known)


def _parameter(name: str) -> str:
    return str(_ssm().get(name, max_age=CACHE_SECONDS))


@functools.cache
def _ssm() -> SSMProvider:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=aws.ssm())


def forget() -> None:
    """Drop the cached routing (tests, and after a SnapStart restore)."""
    global _last_good
    _last_good = None
    _parsed.cache_clear()
    _shipped.cache_clear()
    _ssm.cache_clear()
