"""Centra: SOAP ``customers_Update``, an update/insert of an array of customers.

An SQS batch goes to Centra as one call (several changes of one customer are
coalesced by the runtime first). Centra applies all or nothing: when it rejects
the call with a client fault, the customer the fault names (exactly one of the
batch's ids appears in it) fails with that fault and the rest are sent again in
one call; when the fault names none, or several, the batch falls back to one
call a customer. Either way only the bad customers fail.

The caller's own id is Centra's ``id`` (Centra maps it through its ID conversion
table), so the canonical key is used directly. Centra publishes no field limits;
the ones its SOAP module enforces in practice are checked before any call
(``MAX_LENGTHS``), so one customer's too-long name is refused on its own instead
of failing a whole batch call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr

from custsync.sdk import (
    AuthError,
    Connector,
    Customer,
    PermanentError,
    SendResult,
    SoapClient,
    SyncContext,
    SyncError,
    VendorCall,
    VendorRequest,
    VendorSecret,
    VendorSettings,
    VendorUrl,
    call_limits,
    check_lengths,
    check_xml_text,
    known_value,
    require,
)

WSDL = Path(__file__).with_name("centra.wsdl")
OPERATION = "customers_Update"
# The faultstring of a refused login (the docs give none; this is what Centra's SOAP module answers).
LOGIN_REFUSED = re.compile(r"login failed|wrong username or password|not authori[sz]ed", re.IGNORECASE)
FIELDS = {
    "firstname": "first_name",
    "lastname": "last_name",
    "address1": "address.line1",
    "address2": "address.line2",
    "city": "address.city",
    "state": "address.region",
    "zipcode": "address.postal_code",
    "country": "address.country",
    "email": "email",
    "telephone": "phones.main",
}
DEFAULT_STATUS = {"active": "active", "inactive": "inactive", "suspended": "inactive", "deleted": "inactive"}
MAX_LENGTHS = {
    "id": 64, "type": 64, "status": 64, "firstname": 64, "lastname": 64, "address1": 255, "address2": 255,
    "city": 64, "state": 64, "zipcode": 16, "email": 255, "telephone": 32,
}  # fmt: skip


class CentraSecret(VendorSecret):
    # The whole endpoint URL: it differs between shop and docs hosts.
    base_url: VendorUrl = Field(
        description="The whole SOAP endpoint URL.",
        examples=["https://yourshop.centra.com/ams/system/service/module/soap/api"],
    )
    username: str = Field(min_length=1, examples=["sync"])
    password: SecretStr = Field(min_length=1, examples=["example-password"])
    store: int | None = Field(default=None, ge=1, description="The store id; else the routing's option, else 1.")


class CentraConnector(Connector[CentraSecret]):
    name = "centra"
    batches = True
    secret_model = CentraSecret
    status_field = "status"

    @classmethod
    def before_snapshot(cls, settings: VendorSettings) -> None:
        from custsync.sdk import load_wsdl

        load_wsdl(WSDL, cls.name, call_limits(settings))

    def configure(self, secret: CentraSecret) -> None:
        options = self.settings.vendor_options
        self.store = secret.store or int(options.get("store", 1))
        self.customer_type = options.get("customer_type")
        self.status_values = {**DEFAULT_STATUS, **options.get("status", {})}
        self.login = {"username": secret.username, "password": secret.password.get_secret_value()}
        self.soap = SoapClient(self.name, WSDL, secret.base_url, limits=self.limits, auth_fault=LOGIN_REFUSED)

    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        record: dict[str, Any] = {"id": require(customer.key, "id", self.name), "store": self.store}
        if self.customer_type:
            record["type"] = str(self.customer_type)
        if customer.status is not None:
            record["status"] = self.status_values[customer.status.value]
        for field, path in FIELDS.items():
            known, value = known_value(customer, path)
            if known:
                record[field] = value or ""
        check_lengths(record, MAX_LENGTHS, self.name)
        check_xml_text(record, self.name)
        return VendorRequest((VendorCall(OPERATION, record),))

    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        (result,) = self.send_many([(request, context)])
        if isinstance(result, SyncError):
            raise result
        return result

    def send_many(self, batch: Sequence[tuple[VendorRequest, SyncContext]]) -> list[SendResult | SyncError]:
        records = [call.payload for request, _ in batch for call in request.calls]
        return self._isolating(records)

    def _isolating(self, records: list[Mapping[str, Any]]) -> list[SendResult | SyncError]:
        """One call for ``records``; on a client fault, set the named customer aside and call again."""
        try:
            response = self._update(records)
        except AuthError:
            raise  # the runtime refreshes the login and resends; isolating would not help
        except PermanentError as fault:
            if len(records) == 1:
                return [fault]
            named = [i for i, record in enumerate(records) if _names(fault.reason, str(record["id"]))]
            if len(named) != 1:
                return [self._one(record) for record in records]
            rest = self._isolating([r for i, r in enumerate(records) if i != named[0]])
            rest.insert(named[0], fault)
            return rest
        return [SendResult(response=response) for _ in records]

    def _one(self, record: Any) -> SendResult | SyncError:
        try:
            return SendResult(response=self._update([record]))
        except SyncError as exc:
            return exc

    def _update(self, records: list[Any]) -> Any:
        result = self.soap.call(OPERATION, login=self.login, customers={"customer": records})
        return {"result": result if result not in (None, "") else "OK", "customers": len(records)}


def _names(fault: str, customer_id: str) -> bool:
    """Whether the fault text names this customer id as a whole word."""
    return re.search(rf"(?<![\w-]){re.escape(customer_id)}(?![\w-])", fault) is not None
