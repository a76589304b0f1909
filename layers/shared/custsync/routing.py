"""Routing and field mapping, as configuration: which vendors get each source's changes, on what conditions,
and how canonical ``attributes`` map onto each vendor's custom fields.

The file ships in the layer (``custsync/routing.yaml``) and is validated at cold start; a deployment can
replace it with the YAML of an SSM parameter (``ROUTING_PARAMETER``, read through Powertools Parameters and
cached for ``CACHE_SECONDS``) without a code change. A file that does not validate fails the cold start, the
message naming the line; a parameter that stops validating later is logged and the last good routing kept.

Conditions are checked by each vendor function on the customer as merged from every change it holds (a
partial change alone does not say which country or tags its customer has). A customer that does not match
is held back, its fields kept; when it comes to match, the vendor gets the whole record.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from custsync import aws
from custsync.errors import ConfigurationError
from custsync.model import CountryCode, Customer
from custsync.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

SHIPPED = Path(__file__).with_name("routing.yaml")
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

    vendors: list[Route]

    @field_validator("vendors", mode="before")
    @classmethod
    def _names_or_routes(cls, value: Any) -> Any:
        """``[exigo, {vendor: everlytic, when: {...}}]``: a bare name is a route without conditions."""
        return (
            [{"vendor": item} if isinstance(item, str) else item for item in value]
            if isinstance(value, list)
            else value
        )


class VendorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field_map: dict[str, str] = Field(default_factory=dict, description="vendor field -> canonical attribute")
    options: dict[str, Any] = Field(default_factory=dict, description="the connector's own options")


class Routing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceRoutes]
    vendors: dict[str, VendorConfig]

    @model_validator(mode="after")
    def _routes_name_configured_vendors(self) -> Routing:
        for source, routes in self.sources.items():
            for index, route in enumerate(routes.vendors):
                if route.vendor not in self.vendors:
                    known = ", ".join(sorted(self.vendors))
                    raise ValueError(
                        f"sources.{source}.vendors.{index}: '{route.vendor}' is not under vendors ({known})"
                    )
        return self

    def vendors_for(self, source: str) -> list[str]:
        routes = self.sources.get(source)
        return [route.vendor for route in routes.vendors] if routes else []

    def unmet(self, source: str, vendor: str, customer: Customer) -> str | None:
        """Why ``customer``'s change from ``source`` is not for ``vendor``, or None. A source the routing does
        not name (an operator batch, the sync API) has no conditions."""
        routes = self.sources.get(source)
        if routes is None:
            return None
        for route in routes.vendors:
            if route.vendor == vendor:
                return route.when.unmet(customer) if route.when else None
        return f"source {source} is not routed to {vendor}"


class _Loader(yaml.SafeLoader):
    """YAML 1.2's booleans only: in YAML 1.1 ``NO`` (Norway), ``yes`` and ``off`` are booleans too."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse(text: str, origin: str) -> Routing:
    """``text`` (YAML) as routing, or a ``ConfigurationError`` naming ``origin``, the line and the problem."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigurationError(f"routing {origin}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    try:
        return Routing.model_validate(data)
    except ValidationError as exc:
        lines = _lines(node)
        problems = []
        for error in exc.errors()[:5]:
            path = [str(part) for part in error["loc"]]
            message = str(error["msg"]).removeprefix("Value error, ")
            if message.startswith("sources."):  # a cross-check names its own path
                path = message.split(":", 1)[0].split(".")
                message = message.split(": ", 1)[1]
            problems.append(f"{origin}:{_line_of(lines, path)}: {'.'.join(path) or 'routing'}: {message}")
        raise ConfigurationError("invalid routing: " + "; ".join(problems)) from exc


def _lines(node: yaml.Node | None, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """Every key path of the YAML document and the line (1-based) it starts on."""
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


def _line_of(lines: Mapping[tuple[str, ...], int], path: list[str]) -> int:
    """The line of the longest prefix of ``path`` the document has."""
    for end in range(len(path), -1, -1):
        if tuple(path[:end]) in lines:
            return lines[tuple(path[:end])]
    return 1


# -- the routing in force -------------------------------------------------------------------------------------
_lock = threading.Lock()
_last_good: Routing | None = None


@functools.cache
def shipped() -> Routing:
    return parse(SHIPPED.read_text(), SHIPPED.name)


def current() -> Routing:
    """The SSM parameter's routing when ``ROUTING_PARAMETER`` names one, else the shipped file's."""
    global _last_good
    name = os.environ.get("ROUTING_PARAMETER", "")
    if not name:
        return shipped()
    text = _parameter(name)
    with _lock:
        try:
            _last_good = _parsed(text, f"SSM {name}")
        except ConfigurationError as exc:
            if _last_good is None:
                raise
            metrics.add_metric(name="RoutingRejected", unit="Count", value=1)
            logger.error("routing parameter no longer valid; keeping the last good routing", extra={"reason": str(exc)})
        return _last_good


@functools.lru_cache(maxsize=4)
def _parsed(text: str, origin: str) -> Routing:
    return parse(text, origin)


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
    shipped.cache_clear()
    _parsed.cache_clear()
    _ssm.cache_clear()
