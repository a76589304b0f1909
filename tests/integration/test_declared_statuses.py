"""A connector declares what its vendor's statuses mean (``RestClient(retry_on=..., permanent_on=...)``) instead of
catching them in ``send``: each rule on a real HTTP server, through the engine and the runtime's retry decision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from custsync.config import VendorSettings
from custsync.engine import EngineSettings, SyncEngine
from custsync.errors import AuthError, ConfigurationError, PermanentError, RetryableError, SyncError
from custsync.failures import classify
from custsync.model import CustomerChange
from custsync.runtime import next_try
from custsync.sdk import Connector, Customer, RestClient, SendResult, SyncContext, VendorCall, VendorRequest
from custsync.secret_schema import VendorSecret
from custsync.state_memory import InMemoryStateStore
from hostile_servers import answer, hostile

SETTINGS = VendorSettings(vendor="acme", state_table="t", vendor_secret_name="s", dlq_url="q")
LOCKED = b'{"message": "customer is locked by another update"}'


class AcmeConnector(Connector[VendorSecret]):
    name = "acme"
    secret_model = VendorSecret
    retry_on: Iterable[int] = ()
    permanent_on: Iterable[int] = ()

    def configure(self, secret: VendorSecret) -> None:
        self.rest = RestClient(
            self.name, secret.base_url, limits=self.limits, retry_on=self.retry_on, permanent_on=self.permanent_on
        )

    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        return VendorRequest((VendorCall("PUT /customers", {"id": customer.key}),))

    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        (call,) = request.calls
        return SendResult(response=self.rest.request("PUT", f"customers/{call.payload['id']}", json={}).json())


def connector(url: str, retry_on: Iterable[int] = (), permanent_on: Iterable[int] = ()) -> AcmeConnector:
    declared = type("Declared", (AcmeConnector,), {"retry_on": retry_on, "permanent_on": permanent_on})
    instance: AcmeConnector = declared(SETTINGS, lambda force: {"base_url": url})
    return instance


def apply(acme: AcmeConnector) -> SyncError:
    engine = SyncEngine(acme, InMemoryStateStore(), EngineSettings(60, 30, 5), None)
    item = CustomerChange.model_validate(
        {
            "change_id": "c-1",
            "source": "test",
            "occurred_at": "2026-11-20T09:00:00Z",
            "customer": {"key": "K1", "email": "k1@example.com"},
        }
    )
    with pytest.raises(SyncError) as caught:
        engine.apply(item)
    return caught.value


def test_a_409_declared_retryable_is_retried_after_the_vendors_retry_after() -> None:
    with hostile(answer(409, LOCKED, **{"Retry-After": "7"})) as server:
        error = apply(connector(server.url, retry_on={409}))

    assert isinstance(error, RetryableError)
    assert (error.status, error.retry_after, error.attempts) == (409, 7.0, 1)
    assert "acme answered HTTP 409: customer is locked by another update" in error.reason
    assert next_try(SETTINGS, error.attempts, error.retry_after, deliveries=1) == (None, 7.0)


def test_an_undeclared_409_is_permanent_so_the_change_is_parked() -> None:
    with hostile(answer(409, LOCKED, **{"Retry-After": "7"})) as server:
        error = apply(connector(server.url))

    assert type(error) is PermanentError
    assert error.status == 409


def test_a_declaration_leaves_401_an_auth_failure() -> None:
    with hostile(answer(401, b'{"message": "bad key"}')) as server:
        acme = connector(server.url, retry_on={409, 423})
        error = apply(acme)

    assert isinstance(error, AuthError)
    assert server.requests == 2, "the credentials were not re-read and the call made once more"


@pytest.mark.parametrize("status", [401, 403])
def test_declaring_an_auth_status_otherwise_is_refused_naming_it(status: int) -> None:
    with pytest.raises(ConfigurationError, match=f"acme: status {status} is always an AuthError"):
        connector("https://acme.example", retry_on={status})
    with pytest.raises(ConfigurationError) as caught:
        connector("https://acme.example", permanent_on={status})
    assert classify(caught.value, "acme").reason.startswith(f"not configured: acme: status {status}")


@pytest.mark.parametrize(
    ("retry_on", "permanent_on", "problem"),
    [({200}, (), "status 200 is no error status"), ({409}, {409}, "status 409 is declared both")],
)
def test_a_declaration_that_means_nothing_is_refused(retry_on: Any, permanent_on: Any, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        connector("https://acme.example", retry_on=retry_on, permanent_on=permanent_on)


def test_a_5xx_declared_permanent_is_not_retried() -> None:
    with hostile(answer(501, b'{"message": "not implemented"}', **{"Retry-After": "7"})) as server:
        error = apply(connector(server.url, permanent_on={501}))

    assert type(error) is PermanentError
    assert error.status == 501


def test_undeclared_statuses_keep_the_defaults() -> None:
    expected = {429: RetryableError, 503: RetryableError, 400: PermanentError, 404: PermanentError}
    for status, kind in expected.items():
        with hostile(answer(status, b"{}", **{"Retry-After": "3"})) as server:
            error = apply(connector(server.url, retry_on={409}, permanent_on={501}))
        assert type(error) is kind, status
