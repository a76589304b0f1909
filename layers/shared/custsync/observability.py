"""The one Logger, Tracer and Metrics of every function, and the PII guard for log text."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.data_masking import DataMasking

SERVICE = "customer-sync"
NAMESPACE = "CustomerSync"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)

_masker = DataMasking(raise_on_missing_field=False)

# Keys whose values are personal data or secrets wherever they appear in a payload.
PII_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "company",
        "email",
        "phones",
        "address",
        "notes",
        "website",
        "attributes",
        "password",
        "api_key",
        "token",
        "auth_token",
        "secret",
    }
)
# One JSONPath union: a path per key would warn for every key a payload lacks.
_PII_PATH = "$..[" + ",".join(f"'{key}'" for key in sorted(PII_KEYS)) + "]"
# Linear on any input: a match may start only where a run of its characters starts (the look-behind),
# and possessive quantifiers never give back what they took, so no position is scanned twice.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++")
_PHONE = re.compile(r"(?<![\d+])\+?\d(?:[\s().-]*+\d){6,}+")


def redact_text(text: str) -> str:
    """Mask anything shaped like an email address or phone number (7+ digits) in free text (vendor messages)."""
    return _PHONE.sub("*****", _EMAIL.sub("*****", text))


def redact_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Erase every PII key at any depth, using Powertools data masking."""
    erased: dict[str, Any] = _masker.erase(payload, fields=[_PII_PATH])
    return erased
