"""What a secret must hold, declared once: each vendor's in its connector, each webhook source's in its module.

A vendor declares its secret as a ``VendorSecret`` subclass (``Connector.secret_model``): one field per key,
required unless it has a default, its allowed values in its type (``Literal["rest", "soap"]``), a credential
typed ``SecretStr`` (pydantic never prints it), an example in ``Field(examples=[...])``. The connector is
configured from the validated model; ``custsync secrets put/check`` validate with it before storing and report
on what is stored; ``custsync routes check`` builds each connector from its ``example()``.

A webhook source declares what each of its signing secrets looks like (``SigningSecret``).

A secret is NOT CONFIGURED while it is ``{}`` (as the template creates it), lacks a required key, or still holds
a placeholder (a value containing ``set-me``); it is INVALID when a value is there but wrong (an ``api`` not
offered, a ``base_url`` over plain http). Problems name keys, never values.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, SecretStr, ValidationError
from pydantic_core import core_schema

from custsync.errors import ConfigurationError, NotConfigured

#: What the placeholders of earlier templates contained: a value holding it was never set by an operator.
PLACEHOLDER = "set-me"


def unset(value: Any) -> bool:
    """Whether a secret's value counts as not set: absent, empty, or a placeholder."""
    return value is None or value == "" or (isinstance(value, str) and PLACEHOLDER in value)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class VendorUrl(str):
    """A vendor's URL in its secret: absolute and https; plain http only to loopback (the local stack)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls.checked, core_schema.str_schema())

    @classmethod
    def checked(cls, value: str) -> VendorUrl:
        try:
            parts = urlsplit(value)
            host, _ = parts.hostname, parts.port
        except ValueError as exc:  # a malformed port or IPv6 literal
            raise ValueError("must be an absolute https URL") from exc
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError("must be an absolute https URL")
        if parts.scheme == "http" and not is_loopback(host):
            raise ValueError("must be https: credentials never travel over plain http (loopback excepted)")
        return cls(value)


@dataclass(frozen=True)
class SecretCheck:
    """What keeps a secret from being used: the keys it lacks (unset or placeholders) and the values that are wrong
    (``"key: why"``). Neither names a value."""

    missing: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return not self.missing and not self.invalid

    @property
    def status(self) -> str:
        return "configured" if self.configured else "not configured" if self.missing else "invalid"

    def describe(self) -> str:
        """``"lacks password, company; api: Input should be 'rest' or 'soap'"``; "" when configured."""
        parts = [f"lacks {', '.join(self.missing)}"] if self.missing else []
        return "; ".join([*parts, *self.invalid])


class VendorSecret(BaseModel):
    """A vendor's secret, as its connector reads it. Subclass it in the connector, one field per key."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    base_url: VendorUrl = Field(description="The vendor's API root, https.", examples=["https://api.vendor.example"])

    @classmethod
    def check(cls, value: Any) -> tuple[Self | None, SecretCheck]:
        """The secret as the model, or None, and what keeps it from being used."""
        if not isinstance(value, Mapping):
            return None, SecretCheck(invalid=("the secret must be a JSON object",))
        fields = cls.model_fields
        placeholders = [key for key, item in value.items() if key in fields and unset(item) and item]
        given = {key: item for key, item in value.items() if not unset(item)}
        try:
            model: Self | None = cls.model_validate(given)
        except ValidationError as exc:
            model = None
            errors = exc.errors()
        else:
            errors = []
        missing = {str(error["loc"][0]) for error in errors if error["type"] == "missing" and error["loc"]}
        missing.update(placeholders)
        invalid = tuple(_problem(error) for error in errors if error["type"] != "missing" or not error["loc"])
        order = list(fields)
        return model, SecretCheck(tuple(sorted(missing, key=order.index)), invalid)

    @classmethod
    def parse(cls, value: Any, name: str, vendor: str | None = None) -> Self:
        """The secret ``name`` (or ARN) as the model; ``NotConfigured`` naming what keeps it from being used."""
        model, problems = cls.check(value)
        if model is None or not problems.configured:
            raise NotConfigured(f"secret {secret_name(name)}: {problems.describe()}", vendor=vendor)
        return model

    @classmethod
    def example(cls) -> dict[str, Any]:
        """A secret that validates: each key's first example (required keys must have one)."""
        return {name: field.examples[0] for name, field in cls.model_fields.items() if field.examples}

    @classmethod
    def credentials(cls) -> list[str]:
        """The keys that hold credentials (``SecretStr``)."""
        return [name for name, field in cls.model_fields.items() if SecretStr in _types(field.annotation)]

    @classmethod
    def urls(cls) -> list[str]:
        """The keys that hold the vendor's URLs (``VendorUrl``): where its calls go."""
        return [name for name, field in cls.model_fields.items() if VendorUrl in _types(field.annotation)]

    @classmethod
    def choices(cls) -> dict[str, tuple[str, ...]]:
        """Each key with allowed values (``Literal[...]``: the API or wire format the secret picks), and those."""
        return {
            name: tuple(str(value) for value in get_args(field.annotation))
            for name, field in cls.model_fields.items()
            if get_origin(field.annotation) is Literal
        }


def secret_name(name_or_arn: str) -> str:
    """A secret's name, from its ARN (``arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>``,
    the suffix Secrets Manager adds) or its name."""
    if not name_or_arn.startswith("arn:") or ":secret:" not in name_or_arn:
        return name_or_arn
    return re.sub(r"-[A-Za-z0-9]{6}$", "", name_or_arn.split(":secret:", 1)[1])


def _types(annotation: Any) -> tuple[Any, ...]:
    return (annotation, *getattr(annotation, "__args__", ()))


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


@dataclass(frozen=True)
class SigningSecret:
    """What each of a webhook source's signing secrets is: the webhook checks what it reads against it, and
    ``custsync secrets put/check`` what an operator stores."""

    description: str  # what it is, where the sender shows it: "the endpoint's signing secret (whsec_...)"
    example: str
    pattern: str = r"\S+"  # what each value must match whole

    def values(self, value: Any, source: str) -> list[str]:
        """The secrets a webhook secret's entry for ``source`` configures (a string or a list of strings): [] when
        none (absent, empty, placeholders); ``ConfigurationError`` naming the source when one is not right."""
        values = value if isinstance(value, list) else [value]
        if not all(item is None or isinstance(item, str) for item in values):
            raise ConfigurationError(f"webhook secret {source!r}: must be a string or a list of strings")
        configured = [item for item in values if not unset(item)]
        if not all(re.fullmatch(self.pattern, item) for item in configured):
            raise ConfigurationError(f"webhook secret {source!r}: each value must be {self.description}")
        return configured
