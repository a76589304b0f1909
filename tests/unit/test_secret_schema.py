"""Each vendor's secret is declared once, in its connector, and each source's signing secret in its module: what
is required, what values are allowed, what is a credential; unset, placeholders and plain http are refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from custsync.config import VendorSettings
from custsync.connector import Connector
from custsync.errors import ConfigurationError, NotConfigured
from custsync.secret_schema import SecretCheck, VendorSecret, secret_name
from custsync.sources import SOURCES, signing_secrets
from devkit.routes import connector_class, template_vendors

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS: dict[str, type[Connector]] = {
    vendor: connector_class(ROOT, folder) for vendor, folder in template_vendors(ROOT).items()
}
# What each vendor's documented API needs (../shared/vendor-docs/): a cross-check of its connector's declaration. A
# vendor not named here is held to the rules every declaration follows (test_every_vendor_declares_its_secret).
DOCUMENTED_REQUIRED = {
    "exsalerate": ["base_url", "username", "password"],
    "exigo": ["base_url", "login_name", "password", "company"],
    "centra": ["base_url", "username", "password"],
    "expandable": ["base_url", "data_source", "user_name", "password"],
    "everlytic": ["base_url", "username", "api_key"],
}
DOCUMENTED_CREDENTIALS = {"exsalerate": ["password"], "exigo": ["password"], "centra": ["password"],
                          "expandable": ["password"], "everlytic": ["api_key"]}  # fmt: skip
VENDORS = sorted(CONNECTORS)


def required(vendor: str) -> list[str]:
    model = CONNECTORS[vendor].secret_model
    return [name for name, field in model.model_fields.items() if field.is_required()]


def settings(vendor: str) -> VendorSettings:
    return VendorSettings(vendor=vendor, state_table="t", vendor_secret_name="s", dlq_url="q")


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_declares_its_secret(vendor: str) -> None:
    """Its own model, a credential in it, and an example for every required key (what ``routes check`` and the
    README's table are made from)."""
    model = CONNECTORS[vendor].secret_model
    assert issubclass(model, VendorSecret) and model is not VendorSecret
    assert model.credentials(), "a credential, typed SecretStr"
    assert set(required(vendor)) <= set(model.example()), "an example for every required key"


@pytest.mark.parametrize("vendor", sorted(DOCUMENTED_REQUIRED))
def test_a_documented_vendors_secret_is_what_its_docs_need(vendor: str) -> None:
    assert required(vendor) == DOCUMENTED_REQUIRED[vendor]
    assert CONNECTORS[vendor].secret_model.credentials() == DOCUMENTED_CREDENTIALS[vendor]


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_connector_configures_itself_from_its_secrets_example(vendor: str) -> None:
    """What ``custsync routes check`` builds each connector from: a new vendor's required keys come with it."""
    cls = CONNECTORS[vendor]
    example = cls.secret_model.example()
    assert cls.secret_model.check(example)[1] == SecretCheck()
    assert all(urlish.startswith("https://") for key, urlish in example.items() if key.endswith("url"))
    cls(settings(vendor), lambda force: example)


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_empty_secret_lacks_every_required_key_and_fails_the_connector_naming_them(vendor: str) -> None:
    cls = CONNECTORS[vendor]
    assert cls.secret_model.check({})[1] == SecretCheck(missing=tuple(required(vendor)))
    with pytest.raises(NotConfigured) as refused:
        cls(settings(vendor), lambda force: {})
    assert refused.value.reason == f"not configured: secret s: lacks {', '.join(required(vendor))}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_placeholder_anywhere_is_not_configured(vendor: str) -> None:
    model = CONNECTORS[vendor].secret_model
    for key in model.model_fields:
        _, problems = model.check({**model.example(), key: "set-me"})
        assert (problems.status, problems.missing) == ("not configured", (key,))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://vendor.example/api", None),
        ("http://127.0.0.1:18101", None),
        ("http://[::1]:8080/x", None),
        ("http://localhost:9/", None),
        ("http://vendor.example/api", "must be https"),
        ("http://10.0.0.8/api", "must be https"),
        ("ftp://vendor.example", "must be an absolute https URL"),
        ("vendor.example/api", "must be an absolute https URL"),
        ("https://vendor.example:99999/", "must be an absolute https URL"),
    ],
)
def test_vendor_urls_are_https_but_on_loopback(url: str, problem: str | None) -> None:
    for vendor, key in (("exsalerate", "base_url"), ("centra", "base_url"), ("everlytic", "xmlrpc_url")):
        model = CONNECTORS[vendor].secret_model
        value = {**model.example(), key: url, **({"api": "xmlrpc"} if key == "xmlrpc_url" else {})}
        _, found = model.check(value)
        if problem is None:
            assert found.configured, (vendor, found)
        else:
            (invalid,) = found.invalid
            assert invalid.startswith(f"{key}: {problem}") and url not in invalid


def test_allowed_values_and_conditional_keys_are_named() -> None:
    exigo, everlytic = CONNECTORS["exigo"].secret_model, CONNECTORS["everlytic"].secret_model
    assert exigo.check({**exigo.example(), "api": "graphql"})[1].invalid == ("api: Input should be 'rest' or 'soap'",)
    assert everlytic.check({**everlytic.example(), "api": "xmlrpc"})[1].invalid == (
        "xmlrpc_url: is required when api is xmlrpc",
    )
    assert exigo.check(["not", "an", "object"])[1].invalid == ("the secret must be a JSON object",)


def test_a_parsed_secret_never_shows_a_credential() -> None:
    model = CONNECTORS["exigo"].secret_model
    parsed = model.parse({**model.example(), "password": "hunter2-very-secret"}, "s")
    assert "hunter2" not in repr(parsed) and "hunter2" not in str(parsed.model_dump())
    with pytest.raises(NotConfigured) as refused:
        model.parse({**model.example(), "password": "hunter2", "api": 7}, "s")
    assert "hunter2" not in str(refused.value)


def test_a_secret_is_named_by_its_name_not_its_arn() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:customer-sync/prod/exigo-AbC123"
    assert secret_name(arn) == "customer-sync/prod/exigo"
    assert secret_name("customer-sync/prod/exigo") == "customer-sync/prod/exigo"


# -- webhook sources ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_each_sources_example_secret_is_what_it_declares(source: str) -> None:
    secret = SOURCES[source].secret
    assert re.fullmatch(secret.pattern, secret.example)
    assert signing_secrets({source: secret.example}, source) == [secret.example]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("set-me", []),
        (["", "set-me", "whsec_new"], ["whsec_new"]),
        (["whsec_new", "whsec_old"], ["whsec_new", "whsec_old"]),
    ],
)
def test_unset_and_placeholder_signing_secrets_configure_nothing(value: Any, expected: list[str]) -> None:
    assert signing_secrets({"stripe": value}, "stripe") == expected


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("stripe", "not-a-stripe-secret"),
        ("stripe", ["whsec_ok", "whsec_ has a space"]),
        ("standardwebhooks", "whsec_not base64!"),
        ("standardwebhooks", "bG9jYWw="),
        ("shopify", "secret with spaces"),
        ("shopify", 42),
    ],
)
def test_a_signing_secret_that_is_not_what_its_source_needs_is_named(source: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=f"webhook secret '{source}': ") as refused:
        signing_secrets({source: value}, source)
    assert str(value) not in str(refused.value)
