"""Webhook sources: each verifies its sender and maps its payload to a ``CustomerChange``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from custsync.model import CustomerChange
from custsync.sources import shopify
from custsync.sources.errors import BadPayload, SignatureInvalid

__all__ = ["SOURCES", "BadPayload", "SignatureInvalid", "Source"]


class Source(Protocol):
    name: str

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str) -> None:
        """Raise ``SignatureInvalid`` unless the body was signed with ``secret``."""

    def normalise(self, headers: Mapping[str, str], payload: Any) -> CustomerChange:
        """Map the payload to a change; raise ``BadPayload`` or pydantic's ``ValidationError``."""


SOURCES: dict[str, Source] = {shopify.SOURCE.name: shopify.SOURCE}
