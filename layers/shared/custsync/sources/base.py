"""What every webhook source shares: the request, the contract, and the checks every signature scheme repeats.

Signatures are checked on the raw body before anything parses it, in constant
time, against every configured secret (several are accepted at once so that a
secret can be rotated without losing a webhook). A timestamped scheme is checked
against one window, ``WebhookSettings.max_clock_skew_seconds`` either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Protocol

from custsync.model import CustomerChange
from custsync.secret_schema import SigningSecret
from custsync.sources.errors import BadPayload, SignatureInvalid

# A JSON string, escapes included; possessive, so it never backtracks.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_UNIX_TIME = re.compile(r"\d{1,16}")


@dataclass(frozen=True)
class WebhookRequest:
    """One webhook call as the sender made it: what its signature covers."""

    method: str
    url: str  # scheme://host/path?query as the sender called it
    headers: Mapping[str, str]
    body: bytes  # the raw bytes the sender signed
    max_json_depth: int = 32
    received_at: float = 0.0  # unix seconds: the time of a change whose sender gives it none (a deletion)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    def json(self) -> Any:
        """The body as JSON; ``BadPayload`` naming why not (not UTF-8, nested too deep, not JSON)."""
        return parse_json(self.body, self.max_json_depth)


@dataclass(frozen=True)
class TimeWindow:
    """How far a signed timestamp may be from now, either way: replayed and post-dated requests are refused."""

    now: float  # unix seconds
    tolerance_seconds: float

    @property
    def latest(self) -> float:
        """The latest time any change may claim: now plus the tolerance."""
        return self.now + self.tolerance_seconds

    def check(self, header: str, sent_at: float) -> None:
        if sent_at < self.now - self.tolerance_seconds:
            raise SignatureInvalid(f"{header}: timestamp is more than {self.tolerance_seconds:g} seconds old")
        if sent_at > self.now + self.tolerance_seconds:
            raise SignatureInvalid(f"{header}: timestamp is more than {self.tolerance_seconds:g} seconds in the future")


class Changes(list[CustomerChange]):
    """What a request carries: its changes, oldest first, and the event types in it that are not handled
    (acknowledged with nothing queued, and counted as ``WebhooksIgnored``)."""

    def __init__(self, changes: Iterable[CustomerChange] = (), *, ignored: Iterable[str] = ()) -> None:
        super().__init__(changes)
        self.ignored = list(ignored)


class Source(Protocol):
    """A webhook sender: ``custsync.webhook`` calls ``verify``, then ``normalise``; ``sign`` is the sender's side."""

    name: str
    #: What each of its signing secrets is (the webhook secret's entry under ``name``).
    secret: SigningSecret

    def verify(self, request: WebhookRequest, secrets: Sequence[str], window: TimeWindow) -> None:
        """Raise ``SignatureInvalid`` naming the header unless one of ``secrets`` signed it, inside ``window``."""

    def normalise(self, request: WebhookRequest) -> Changes:
        """The changes a verified request carries, oldest first (none, one or several), and the event types it
        carries that are not handled (``Changes.ignored``: answered 200, nothing queued, never refused).

        Raise ``BadPayload`` or pydantic's ``ValidationError`` naming the field when the request cannot be used.
        """

    def sign(self, request: WebhookRequest, secret: str, now: float) -> dict[str, str]:
        """The signature headers the sender would add at ``now`` (for the demo, local invoke and tests)."""


def signed_header(request: WebhookRequest, name: str) -> str:
    """A header the signature scheme needs; ``SignatureInvalid`` when it is missing or empty."""
    value = request.header(name)
    if not value or not value.strip():
        raise SignatureInvalid(f"{name}: header is missing")
    return value.strip()


def unix_time(header: str, value: str, *, per_second: int = 1) -> float:
    """A unix timestamp header (``per_second=1000`` for milliseconds) as seconds."""
    if not _UNIX_TIME.fullmatch(value):
        raise SignatureInvalid(f"{header}: is not a unix timestamp")
    return int(value) / per_second


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def signed_by_any(sent: Iterable[bytes | None], message: bytes, keys: Iterable[bytes]) -> bool:
    """Whether any sent signature is the HMAC-SHA256 of ``message`` under any key.

    Every pair is compared, in constant time, so the answer's timing tells nothing about which key matched.
    """
    expected = [hmac_sha256(key, message) for key in keys]
    candidates = [signature for signature in sent if signature is not None]
    return any([hmac.compare_digest(signature, mac) for signature in candidates for mac in expected])  # noqa: C419


def utf8_keys(secrets: Iterable[str]) -> list[bytes]:
    return [secret.encode() for secret in secrets]


def from_base64(value: str) -> bytes | None:
    """A base64 signature's bytes; None when it is not base64 (so it matches nothing)."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def from_hex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def to_base64(mac: bytes) -> str:
    return base64.b64encode(mac).decode()


def parse_json(body: bytes, max_depth: int) -> Any:
    """The body as JSON, or ``BadPayload`` naming why not: not UTF-8, nested too deep, not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPayload(f"body: is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})") from exc
    if nesting_depth(text) > max_depth:
        raise BadPayload(f"body: nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadPayload("body: is not valid JSON") from exc
    except ValueError as exc:  # an integer past Python's 4300-digit conversion limit
        raise BadPayload("body: holds a number too long to read") from exc


def nesting_depth(text: str) -> int:
    """How deep JSON ``text`` nests arrays and objects, in one linear pass (strings skipped)."""
    structure = _JSON_STRING.sub("", text)
    steps = (1 if char in "[{" else -1 for char in structure if char in "[]{}")
    return max(accumulate(steps, initial=0))


def json_object(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise BadPayload(f"body: must be a JSON object ({what})")
    return payload


def text_or_none(value: Any) -> str | None:
    """A sender's value as canonical text: "" and null clear, numbers and booleans as text, structures as JSON."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


VENDOR_ID_PREFIX = "customer_sync."


def split_vendor_ids(
    fields: Mapping[str, Any], prefix: str = VENDOR_ID_PREFIX
) -> tuple[dict[str, Any], dict[str, str]]:
    """Custom fields as (attributes, vendor ids): a field named ``<prefix><vendor id key>`` names a vendor-side id.

    ``customer_sync.everlytic: "9001"`` -> ``vendor_ids["everlytic"]``. An empty vendor id is ignored.
    """
    attributes: dict[str, Any] = {}
    vendor_ids: dict[str, str] = {}
    for name, value in fields.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            text = text_or_none(value)
            if text:
                vendor_ids[name.removeprefix(prefix)] = text
        else:
            attributes[name] = value
    return attributes, vendor_ids


def digest(*parts: str | bytes, length: int = 16) -> str:
    """A short, stable hex digest of ``parts``: derived change ids."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode() if isinstance(part, str) else part)
        hasher.update(b"\x00")
    return hasher.hexdigest()[:length]
