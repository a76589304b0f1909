"""Exsalerate: ``PUT api/Customer``, a full-replace upsert over HTTP Basic.

Because an omitted property is blanked, the request always carries the whole
record: the merged canonical customer, and for anything no change has ever
mentioned, the value Exsalerate already holds (found by ``GET api/Customer`` by
reference code the first time a customer is seen).

A PUT without ``CustomerId`` creates a record, so the id must never be lost. The PUT's
reply is not documented: the id is taken from whatever it carries (a whole record, a
bare id, or nothing), and while the id is still unknown every change looks the
customer up by reference code first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
from pydantic import Field, SecretStr

from custsync.sdk import (
    Connector,
    Customer,
    PermanentError,
    RestClient,
    SendResult,
    SyncContext,
    ValidationFailed,
    VendorCall,
    VendorRequest,
    VendorSecret,
    check_lengths,
    checked_field_map,
    default_error_text,
    known_value,
    needed,
    require,
    utf16_length,
)

OPERATION = "PUT api/Customer"
DATACONTRACT_NS = "http://schemas.datacontract.org/2004/07/ExsalerateWebAPI.Models"
MAX_LENGTHS = {
    "AssignedToEmail": 150,
    "CustomerName": 255,
    "CompanyPhone": 20,
    "CompanyMobile": 20,
    "CompanyEmail": 150,
    "LeadStatus": 150,
    "RefCode": 200,
    "Region": 150,
    "Rank": 150,
    "IndustryType": 150,
    "Notes": 4000,
}
INTEGER_FIELDS = ("SiteOwnerId", "YourID", "CustomerId")
# Vendor field -> canonical field path. Fields not here come from the secret or the field map.
CANONICAL_FIELDS: dict[str, str] = {
    "CompanyPhone": "phones.main",
    "CompanyMobile": "phones.mobile",
    "CompanyEmail": "email",
    "Region": "address.region",
    "Notes": "notes",
}
DEFAULT_FIELD_MAP = {"Rank": "rank", "IndustryType": "industry"}


class ExsalerateSecret(VendorSecret):
    username: str = Field(min_length=1, examples=["sync-user"])
    password: SecretStr = Field(min_length=1, examples=["example-password"])
    site_owner_id: int | None = Field(
        default=None, description="SiteOwnerId; without it customers are never looked up.", examples=[1]
    )
    assigned_to_email: str | None = Field(
        default=None, description="The default AssignedToEmail (the owner).", examples=["sales@example.com"]
    )
    format: Literal["json", "xml", "form"] = Field(default="json", description="The wire format of the PUT.")


def error_text(response: httpx.Response) -> str:
    """ASP.NET Web API errors: ``Message`` plus every ``ModelState`` message."""
    try:
        body = response.json()
    except ValueError:
        return default_error_text(response)
    if not isinstance(body, dict):
        return default_error_text(response)
    messages = [str(body.get("Message", ""))]
    for problems in (body.get("ModelState") or {}).values():
        messages.extend(str(problem) for problem in problems)
    return " ".join(message for message in messages if message)


class ExsalerateConnector(Connector[ExsalerateSecret]):
    name = "exsalerate"
    secret_model = ExsalerateSecret
    status_field = "LeadStatus"

    def configure(self, secret: ExsalerateSecret) -> None:
        self.site_owner_id = secret.site_owner_id
        self.assigned_to_email = secret.assigned_to_email
        self.wire_format = secret.format
        self.field_map = checked_field_map(
            {**DEFAULT_FIELD_MAP, **self.settings.field_map},
            (*MAX_LENGTHS, *INTEGER_FIELDS),
            "Exsalerate's CustomerModel",
        )
        self.client = RestClient(
            self.name,
            secret.base_url,
            auth=(secret.username, secret.password.get_secret_value()),
            limits=self.limits,
            error_text=error_text,
        )

    def prepare(self, customer: Customer, context: SyncContext) -> SyncContext:
        # The first time a customer is seen, Exsalerate's record fills what no change has sent.
        # Later, a look-up is made only while the id is unknown, and only for the id: what ends
        # up at Exsalerate must not depend on whether its last reply happened to carry the id.
        first_sighting = context.previous is None
        if self.site_owner_id is None or ("id" in context.ids and not first_sighting):
            return context
        record = self._find(customer.key)
        if record is None:
            return context
        ids = dict(context.ids)
        found = customer_id_of(record.get("CustomerId"))
        if found is not None:
            ids.setdefault("id", found)
        return SyncContext(ids=ids, previous=context.previous, vendor_record=record if first_sighting else None)

    def _find(self, ref_code: str) -> dict[str, Any] | None:
        """Exsalerate's record with this reference code, or None when it has none (404)."""
        try:
            response = self.client.request(
                "GET", "api/Customer", params={"siteOwnerId": self.site_owner_id, "refCode": ref_code}
            )
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        record = _json_or_none(response)
        return record if isinstance(record, dict) else None

    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        current = context.vendor_record or {}
        model: dict[str, Any] = {
            "SiteOwnerId": self.site_owner_id,
            "AssignedToEmail": require(
                self.assigned_to_email or current.get("AssignedToEmail"), "AssignedToEmail", self.name
            ),
            "CustomerName": self._customer_name(customer, current),
            "RefCode": customer.key,
            "LeadStatus": _lead_status(customer, current),
            "CustomerId": context.ids.get("id"),
        }
        for vendor_field, path in CANONICAL_FIELDS.items():
            known, value = known_value(customer, path)
            model[vendor_field] = value if known else current.get(vendor_field)
        attributes = customer.attributes or {}
        for vendor_field, attribute in self.field_map.items():
            model[vendor_field] = attributes[attribute] if attribute in attributes else current.get(vendor_field)
        payload = {name: value for name, value in sorted(model.items()) if value is not None and value != ""}
        _coerce_integers(payload, self.name)
        check_lengths(payload, MAX_LENGTHS, self.name, length=utf16_length)  # an ASP.NET API
        return VendorRequest((VendorCall(OPERATION, payload),))

    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        (call,) = request.calls
        response = self.client.request("PUT", "api/Customer", **self._encode(call.payload))
        body = _json_or_none(response)
        customer_id = customer_id_in(response)
        return SendResult(
            response=body if body is not None else {"status": response.status_code},
            ids={"id": customer_id} if customer_id is not None else {},
        )

    def _customer_name(self, customer: Customer, current: Mapping[str, Any]) -> str:
        name_known = any(known_value(customer, f)[0] for f in ("company", "first_name", "last_name"))
        name = customer.display_name() if name_known else current.get("CustomerName")
        return needed(name, "CustomerName", self.name)

    def _encode(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        encoders: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "json": lambda p: {"json": dict(p)},
            "xml": lambda p: {"content": to_datacontract_xml(p), "headers": {"Content-Type": "application/xml"}},
            "form": lambda p: {
                "content": urlencode(p),
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
        }
        return encoders[self.wire_format](payload)


def customer_id_in(response: httpx.Response) -> str | None:
    """The CustomerId a PUT's reply carries, as a whole record or a bare id (JSON or plain text), if any."""
    body = _json_or_none(response)
    if isinstance(body, dict):
        return customer_id_of(body.get("CustomerId"))
    return customer_id_of(response.text if body is None else body)


def customer_id_of(value: Any) -> str | None:
    """``value`` as a CustomerId (a positive integer, or a string of its digits), else None."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    # 0 is what .NET serialises for an int never set: no id at all.
    return str(value) if value > 0 else None


def to_datacontract_xml(payload: Mapping[str, Any]) -> bytes:
    """The DataContractSerializer form: CustomerModel in its namespace, elements in alphabetical order."""
    ElementTree.register_namespace("", DATACONTRACT_NS)
    root = ElementTree.Element(f"{{{DATACONTRACT_NS}}}CustomerModel")
    for name in sorted(payload):
        ElementTree.SubElement(root, f"{{{DATACONTRACT_NS}}}{name}").text = str(payload[name])
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _lead_status(customer: Customer, current: Mapping[str, Any]) -> str | None:
    known, status = known_value(customer, "status")
    if not known:
        return current.get("LeadStatus")
    return status.value.title() if status else None


def _coerce_integers(payload: dict[str, Any], vendor: str) -> None:
    for name in INTEGER_FIELDS:
        if name in payload:
            try:
                payload[name] = int(payload[name])
            except (TypeError, ValueError) as exc:
                raise ValidationFailed(name, f"must be an integer, got {payload[name]!r}", vendor=vendor) from exc


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
