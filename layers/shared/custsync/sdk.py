"""Everything a vendor connector needs, from one module.

A connector maps the canonical customer to the vendor's calls, makes them, and
raises the errors below; the runtime does the rest (``custsync.connector``)::

    from pydantic import Field, SecretStr

    from custsync.sdk import (
        Connector, Customer, RestClient, SendResult, SyncContext, VendorCall, VendorRequest, VendorSecret,
        check_lengths, known_value, require,
    )


    class AcmeSecret(VendorSecret):
        username: str = Field(examples=["sync-user"])
        password: SecretStr = Field(examples=["example-password"])


    class AcmeConnector(Connector[AcmeSecret]):
        name = "acme"
        secret_model = AcmeSecret

        def configure(self, secret: AcmeSecret) -> None:
            auth = (secret.username, secret.password.get_secret_value())
            self.rest = RestClient(self.name, secret.base_url, auth=auth, limits=self.limits)

        def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
            record = {"id": require(customer.key, "id", self.name)}
            known, email = known_value(customer, "email")
            if known:
                record["email"] = email or ""
            check_lengths(record, {"email": 120}, self.name)
            return VendorRequest((VendorCall("PUT /customers", record),))

        def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
            (call,) = request.calls
            response = self.rest.request("PUT", f"customers/{call.payload['id']}", json=dict(call.payload))
            return SendResult(response=response.json())

What a connector decides (``make vendor`` writes a skeleton that shows each; README, "Adding a vendor"):

- Headers every call carries, given once to the client: ``RestClient(..., headers={"X-Api-Key": key})``;
  HTTP Basic is ``auth=(user, secret)``.
- The reason a failure carries: ``RestClient(..., error_text=fn)``, where ``fn(response) -> str`` reads the
  vendor's error body (``default_error_text``: a JSON ``message``/``error`` key, else the body's start). SOAP
  and XML-RPC faults carry their fault string.
- How a status is classified, by the transport, never in ``send``: 408, 425, 429 and 5xx are retried (after
  ``Retry-After``), 401/403 re-read the secret once and then park, 3xx and every other 4xx park at once, a 409
  too, unless the connector declares it: ``RestClient(..., retry_on={409})`` makes a 409 "locked" a retry,
  ``permanent_on={501}`` a 5xx final; no declaration moves 401/403 (``transport/rest.py``'s ``StatusRules``).
  A SOAP client fault parks, a server fault retries (``auth_fault=`` names a refused login's faultstring). Raise
  ``RetryableError``, ``PermanentError`` or ``AuthError`` only for what a successful answer means.
- Full or partial sends: ``context.previous`` is the customer as last sent to this vendor, and None on a full
  send (the first, or after a call of unknown outcome, when everything must go). A PATCH-like vendor is sent
  what changed from ``previous``; a PUT-like one every field, each time (the runtime skips a call whose payload
  equals the last one sent).
- A no-op: ``to_request`` returning ``VendorRequest(())``, on a partial send or a full one, makes no call (``send``
  is never given no call); the change is skipped as a no-op. Return it for a change to nothing the vendor holds.

``SoapClient`` and ``load_wsdl`` are imported on first use: they load zeep, tens
of milliseconds of cold start that a vendor not speaking SOAP never pays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from custsync.config import VendorSettings
from custsync.connector import (
    Connector,
    SendResult,
    SyncContext,
    VendorCall,
    VendorRequest,
    call_limits,
    check_lengths,
    check_xml_text,
    checked_field_map,
    needed,
    require,
    utf16_length,
)
from custsync.errors import (
    AuthError,
    ConfigurationError,
    Incomplete,
    PermanentError,
    RetryableError,
    SyncError,
    ValidationFailed,
)
from custsync.model import Customer, known_value
from custsync.secret_schema import VendorSecret, VendorUrl
from custsync.transport.http import CallLimits
from custsync.transport.rest import RestClient, default_error_text
from custsync.transport.xmlrpc import XmlRpcClient

if TYPE_CHECKING:
    from custsync.transport.soap import SoapClient, load_wsdl

__all__ = [
    "AuthError",
    "CallLimits",
    "ConfigurationError",
    "Connector",
    "Customer",
    "Incomplete",
    "PermanentError",
    "RestClient",
    "RetryableError",
    "SendResult",
    "SoapClient",
    "SyncContext",
    "SyncError",
    "ValidationFailed",
    "VendorCall",
    "VendorRequest",
    "VendorSecret",
    "VendorSettings",
    "VendorUrl",
    "XmlRpcClient",
    "call_limits",
    "check_lengths",
    "check_xml_text",
    "checked_field_map",
    "default_error_text",
    "known_value",
    "load_wsdl",
    "needed",
    "require",
    "utf16_length",
]

_SOAP_NAMES = ("SoapClient", "load_wsdl")

# Hidden from type checkers, which would otherwise let any misspelt name through as Any.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """The SOAP names, importing ``custsync.transport.soap`` (and zeep) the first time one is asked for."""
        if name not in _SOAP_NAMES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from custsync.transport import soap

        value = getattr(soap, name)
        globals()[name] = value
        return value
