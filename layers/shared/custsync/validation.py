"""Pydantic validation errors as one line a caller can act on, naming the field."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(exc: ValidationError) -> str:
    """``"customer.address.country: must be an ISO-3166 alpha-2 ..."`` for the first few problems."""
    problems = []
    for error in exc.errors()[:5]:
        location = ".".join(str(part) for part in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{location}: {message}")
    return "; ".join(problems)
