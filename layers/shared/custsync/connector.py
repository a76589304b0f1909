"""The interface every vendor implements; the runtime drives it.

A connector maps a canonical customer to the vendor's calls (pure, no I/O),
performs those calls, and turns the vendor's failures into the error types of
``custsync.errors``. Everything else (queues, state, retries, logging) is the
runtime's.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic

from typing_extensions import TypeVar

from custsync.config import VendorSettings
from custsync.errors import ConfigurationError, Incomplete, SyncError, ValidationFailed
from custsync.model import Customer
from custsync.secret_schema import VendorSecret
from custsync.transport.http import CallLimits

# The model of a connector's secret; a bare ``Connector`` is any vendor's.
SecretT = TypeVar("SecretT", bound=VendorSecret, default=Any)

SecretLoader = Callable[[bool], dict[str, Any]]


@dataclass(frozen=True)
class VendorCall:
    """One call to the vendor: what operation, with exactly what payload."""

    operation: str
    payload: Mapping[str, Any]

    def fingerprint(self) -> str:
        canonical = json.dumps(self.payload, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(f"{self.operation}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class VendorRequest:
    """All the calls one change needs at one vendor, in order."""

    calls: tuple[VendorCall, ...]

    def fingerprints(self) -> dict[str, str]:
        return {call.operation: call.fingerprint() for call in self.calls}

    def unsent(self, sent: Mapping[str, str]) -> VendorRequest:
        """Only the calls whose payload differs from the last one sent for that operation."""
        return VendorRequest(tuple(c for c in self.calls if sent.get(c.operation) != c.fingerprint()))

    def as_dict(self) -> dict[str, Any]:
        return {"calls": [{"operation": c.operation, "payload": dict(c.payload)} for c in self.calls]}


@dataclass
class SyncContext:
    """What the runtime knows of this customer at this vendor when it maps a change."""

    ids: dict[str, str] = field(default_factory=dict)
    previous: Customer | None = None
    vendor_record: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SendResult:
    """The vendor's answer, and any vendor-side ids it assigned (kept in the state table)."""

    response: Any = None
    ids: Mapping[str, str] = field(default_factory=dict)


class Connector(ABC, Generic[SecretT]):
    """One vendor's mapping and calls. Subclasses set ``name`` and ``secret_model`` (what the vendor's secret holds,
    declared once: ``custsync.secret_schema``) and implement the three steps."""

    name: ClassVar[str]
    secret_model: type[SecretT]
    #: True when the vendor takes many customers in one call (``send_many`` is then used for SQS batches).
    batches: ClassVar[bool] = False
    #: The vendor field the canonical ``status`` is sent to, if the vendor has one: a customer deleted at the
    #: source is then deactivated there by default (the routing file's ``on_delete``), else left alone.
    status_field: ClassVar[str | None] = None

    def __init__(self, settings: VendorSettings, load_secret: SecretLoader) -> None:
        self.settings = settings
        #: What every call of this vendor's clients is bounded by.
        self.limits = call_limits(settings)
        #: Customers are applied concurrently: guard what the connector builds lazily (a token, say) with it.
        self.lock = threading.RLock()
        #: How many times the credentials were re-read: a refusal seen under an older generation is already handled.
        self.generation = 0
        self._load_secret = load_secret
        self.configure(self._secret(force_fetch=False))

    @classmethod
    def before_snapshot(cls, settings: VendorSettings) -> None:
        """Work to do once before a SnapStart snapshot that needs no secret (a WSDL parse). Default: none."""
        return

    @abstractmethod
    def configure(self, secret: SecretT) -> None:
        """Build clients from the vendor secret (called at init and on credential refresh)."""

    def _secret(self, *, force_fetch: bool) -> SecretT:
        """The secret, validated; ``NotConfigured`` naming what keeps it from being used (nothing is configured)."""
        return self.secret_model.parse(self._load_secret(force_fetch), self.settings.vendor_secret_name, self.name)

    def current_secret(self) -> dict[str, Any]:
        """The vendor's secret as the connector reads it (cached): a dry run masks its values in what it shows."""
        return self._load_secret(False)

    def refresh_credentials(self, seen_generation: int | None = None) -> None:
        """Re-read the secret and rebuild the clients; token vendors also drop their token. Done once for
        every caller that saw a refusal under ``seen_generation``, however many threads saw it."""
        with self.lock:
            if seen_generation is not None and seen_generation != self.generation:
                return
            self.configure(self._secret(force_fetch=True))
            self.generation += 1

    def prepare(self, customer: Customer, context: SyncContext) -> SyncContext:
        """Look up what the mapping needs from the vendor (ids, current record). Default: nothing."""
        return context

    @abstractmethod
    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        """Map the merged customer to the vendor calls. Pure: no I/O. Raises ``ValidationFailed``."""

    @abstractmethod
    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        """Perform the calls; raise ``RetryableError`` / ``PermanentError`` / ``AuthError``."""

    def send_many(self, batch: Sequence[tuple[VendorRequest, SyncContext]]) -> list[SendResult | SyncError]:
        """Send several customers' requests; a batching vendor overrides this with one call."""
        results: list[SendResult | SyncError] = []
        for request, context in batch:
            try:
                results.append(self.send(request, context))
            except SyncError as exc:
                results.append(exc)
        return results


def call_limits(settings: VendorSettings) -> CallLimits:
    """A vendor's call bounds, from its settings."""
    return CallLimits(settings.call_timeout_seconds, settings.max_response_bytes)


def require(value: str | None, field_name: str, vendor: str) -> str:
    """``value``, or a ``ValidationFailed`` naming the vendor field when it is empty."""
    if value is None or value == "":
        raise ValidationFailed(field_name, "is required", vendor=vendor)
    return value


def needed(value: str | None, field_name: str, vendor: str) -> str:
    """``value``, or an ``Incomplete`` naming the vendor field: a field some change must carry first
    (a customer's name, say), unlike ``require``'s, which no later change can supply."""
    if value is None or value == "":
        raise Incomplete(field_name, vendor=vendor)
    return value


def utf16_length(value: str) -> int:
    """A string's length as .NET and Java count it: UTF-16 code units (an emoji is two)."""
    return len(value.encode("utf-16-le")) // 2


def check_lengths(
    payload: Mapping[str, Any], limits: Mapping[str, int], vendor: str, length: Callable[[str], int] = len
) -> None:
    """Raise ``ValidationFailed`` naming the first field longer than the vendor allows."""
    for name, limit in limits.items():
        value = payload.get(name)
        if isinstance(value, str) and length(value) > limit:
            raise ValidationFailed(
                name, f"is {length(value)} characters; {vendor} allows at most {limit}", vendor=vendor
            )


# The characters XML 1.0 cannot carry (https://www.w3.org/TR/xml/#charsets: every other one is a Char), which a
# SOAP request cannot hold. Written as this short class, not as the negation of the Char ranges: compiling a
# class whose ranges reach U+10FFFF walks 65,536 code points in Python, ~20 ms of every cold start.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_xml_text(payload: Mapping[str, Any], vendor: str) -> None:
    """Raise ``ValidationFailed`` naming the first field holding a character XML cannot carry (a control one)."""
    for name, value in payload.items():
        found = _NOT_XML.search(value) if isinstance(value, str) else None
        if found:
            raise ValidationFailed(
                name, f"holds U+{ord(found.group()):04X}, a character XML cannot carry", vendor=vendor
            )


def checked_field_map(field_map: Mapping[str, str], targets: Iterable[str], vendor: str) -> dict[str, str]:
    """``field_map`` (vendor field -> attribute), or a ``ConfigurationError`` naming fields the vendor lacks."""
    unknown = sorted(set(field_map) - set(targets))
    if unknown:
        raise ConfigurationError(f"routing field_map: {vendor} has no field {', '.join(unknown)}")
    return dict(field_map)
