"""The one Logger, Tracer and Metrics of every function, and the PII guard for log text."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.utilities.data_masking import DataMasking

SERVICE = "customer-sync"
NAMESPACE = "CustomerSync"
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def _tracer() -> Tracer | None:
    """Powertools' Tracer when tracing is on (the template's ``Tracing`` parameter), else None: creating a
    Tracer loads the X-Ray SDK, hundreds of milliseconds of cold start, even when it is disabled."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("true", "1"):
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def traced(*, capture_response: bool = True) -> Callable[[HandlerT], HandlerT]:
    """The handler decorator: traced with X-Ray when tracing is on, left as it is otherwise."""

    def decorate(handler: HandlerT) -> HandlerT:
        if tracer is None:
            return handler
        return cast(HandlerT, tracer.capture_lambda_handler(handler, capture_response=capture_response))

    return decorate


logger = Logger(service=SERVICE)
tracer = _tracer()
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


@functools.cache
def _masker() -> DataMasking:
    """Loaded when something is first parked: only then is a payload logged."""
    from aws_lambda_powertools.utilities.data_masking import DataMasking

    return DataMasking(raise_on_missing_field=False)


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
    erased: dict[str, Any] = _masker().erase(payload, fields=[_PII_PATH])
    return erased
