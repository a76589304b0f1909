"""Exigo: ``UpdateCustomer`` for the base record and ``UpdateCustomerExtended`` for the custom fields,
over REST (``PATCH {base}/3.0/customers[/extended]``) or SOAP (``ExigoApi.asmx``), chosen by the secret.

Both are PATCH-like: only the fields that changed since the last sync are sent,
and a call with nothing to send is not made. The customer is addressed by
``CustomerID`` (``vendor_ids["exigo"]``) or else ``CustomerKey`` (the canonical
key), never both. Canonical ``attributes`` reach ``Field1``..``Field30`` of the
extended record through ``FIELD_MAP`` (``{"Field1": "tags"}``); the extended
record's ``ExtendedGroupID`` / ``CustomerExtendedID`` come from
``vendor_ids["exigo.extended_group_id"]`` / ``["exigo.customer_extended_id"]``
or ``VENDOR_OPTIONS``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

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
    VendorSettings,
    VendorUrl,
    call_limits,
    check_xml_text,
    checked_field_map,
    known_value,
)

if TYPE_CHECKING:
    from custsync.sdk import SoapClient

WSDL = Path(__file__).with_name("exigo.wsdl")
NAMESPACE = "http://api.exigo.com/"
UPDATE_CUSTOMER = "UpdateCustomer"
UPDATE_EXTENDED = "UpdateCustomerExtended"
# The faultstring of a refused ApiAuthentication header (the docs give none).
LOGIN_REFUSED = re.compile(r"invalid login|credentials|authenticat(ion|e) failed", re.IGNORECASE)
REST_PATHS = {UPDATE_CUSTOMER: "3.0/customers", UPDATE_EXTENDED: "3.0/customers/extended"}
BASE_FIELDS = {
    "FirstName": "first_name",
    "LastName": "last_name",
    "Company": "company",
    "Email": "email",
    "Phone": "phones.main",
    "MobilePhone": "phones.mobile",
    "Fax": "phones.fax",
    "MainAddress1": "address.line1",
    "MainAddress2": "address.line2",
    "MainAddress3": "address.line3",
    "MainCity": "address.city",
    "MainState": "address.region",
    "MainZip": "address.postal_code",
    "MainCountry": "address.country",
}
EXTENDED_FIELDS = tuple(f"Field{n}" for n in range(1, 31))
DEFAULT_STATUS = {"active": 1, "inactive": 2, "suspended": 3, "deleted": 4}


class ExigoSecret(VendorSecret):
    base_url: VendorUrl = Field(
        description="The company's API host; REST under /3.0/, SOAP at /3.0/ExigoApi.asmx.",
        examples=["https://yourcompany-api.exigo.com"],
    )
    api: Literal["rest", "soap"] = Field(default="rest", description="Which of Exigo's APIs to call.")
    login_name: str = Field(min_length=1, examples=["sync"])
    password: SecretStr = Field(min_length=1, examples=["example-password"])
    company: str = Field(min_length=1, examples=["yourcompany"])


def camel(name: str) -> str:
    """Exigo's REST names: ``CustomerID`` -> ``customerID``, ``MainAddress1`` -> ``mainAddress1``."""
    return name[:1].lower() + name[1:]


class ExigoConnector(Connector[ExigoSecret]):
    name = "exigo"
    secret_model = ExigoSecret
    status_field = "CustomerStatus"

    @classmethod
    def before_snapshot(cls, settings: VendorSettings) -> None:
        from custsync.sdk import load_wsdl

        load_wsdl(WSDL, cls.name, call_limits(settings))

    def configure(self, secret: ExigoSecret) -> None:
        self.api = secret.api
        self.field_map = checked_field_map(self.settings.field_map, EXTENDED_FIELDS, "Exigo's extended record")
        options = self.settings.vendor_options
        self.status_codes = {**DEFAULT_STATUS, **options.get("customer_status", {})}
        self.extended_ids = {
            "ExtendedGroupID": options.get("extended_group_id"),
            "CustomerExtendedID": options.get("customer_extended_id"),
        }
        login, password, company = secret.login_name, secret.password.get_secret_value(), secret.company
        base_url = secret.base_url.rstrip("/")
        self.rest = RestClient(self.name, base_url, auth=(f"{login}@{company}", password), limits=self.limits)
        self.soap: SoapClient | None = None
        if self.api == "soap":
            from custsync.sdk import SoapClient  # zeep only when SOAP is configured: a cold-start cost

            self.soap = SoapClient(
                self.name, WSDL, f"{base_url}/3.0/ExigoApi.asmx", limits=self.limits, auth_fault=LOGIN_REFUSED
            )
        self.auth_header = {"LoginName": login, "Password": password, "Company": company}

    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        identity: dict[str, Any] = (
            {"CustomerID": _integer(context.ids["id"], "vendor_ids.exigo")}
            if context.ids.get("id")
            else {"CustomerKey": customer.key}
        )
        previous = context.previous
        calls = []
        base = _changed(self._base_fields(customer), self._base_fields(previous) if previous else {})
        if base:
            calls.append(VendorCall(UPDATE_CUSTOMER, {**identity, **base}))
        extended = _changed(self._extended_fields(customer), self._extended_fields(previous) if previous else {})
        if extended:
            calls.append(VendorCall(UPDATE_EXTENDED, {**identity, **self._extended_identity(context), **extended}))
        if self.api == "soap":
            for call in calls:
                check_xml_text(call.payload, self.name)
        return VendorRequest(tuple(calls))

    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        responses = {call.operation: self._call(call) for call in request.calls}
        return SendResult(response=responses)

    def _base_fields(self, customer: Customer) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for vendor_field, path in BASE_FIELDS.items():
            known, value = known_value(customer, path)
            if known:
                fields[vendor_field] = value or ""
        if customer.status is not None:
            fields["CustomerStatus"] = int(self.status_codes[customer.status.value])
        return fields

    def _extended_fields(self, customer: Customer) -> dict[str, Any]:
        attributes = customer.attributes or {}
        return {
            field: attributes[attribute] or "" for field, attribute in self.field_map.items() if attribute in attributes
        }

    def _extended_identity(self, context: SyncContext) -> dict[str, int]:
        ids = {
            "ExtendedGroupID": context.ids.get("extended_group_id") or self.extended_ids["ExtendedGroupID"],
            "CustomerExtendedID": context.ids.get("customer_extended_id") or self.extended_ids["CustomerExtendedID"],
        }
        for field, value in ids.items():
            if value in (None, ""):
                raise ValidationFailed(field, "is required for UpdateCustomerExtended (VENDOR_OPTIONS or vendor_ids)")
        return {field: _integer(value, field) for field, value in ids.items()}

    def _call(self, call: VendorCall) -> Any:
        if self.soap is None:
            payload = {camel(name): value for name, value in call.payload.items()}
            response = self.rest.request("PATCH", REST_PATHS[call.operation], json=payload)
            body = response.json() if response.content else None
            if isinstance(body, dict) and body.get("message"):
                raise PermanentError(
                    f"exigo {call.operation}: {body['message']}", vendor=self.name, status=response.status_code
                )
            return body
        header = self.soap.element(f"{{{NAMESPACE}}}ApiAuthentication", **self.auth_header)
        result = self.soap.call(call.operation, soap_headers=[header], **call.payload)
        status = getattr(result, "Status", None)
        if status is not None and str(status) == "Failure":
            # Errors is an ArrayOfString: zeep gives an object whose "string" holds the list.
            errors = "; ".join(str(e) for e in (getattr(getattr(result, "Errors", None), "string", None) or []))
            raise PermanentError(f"exigo {call.operation} failed: {errors or 'no reason given'}", vendor=self.name)
        return {"Status": str(status) if status is not None else "Success"}


def _changed(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in current.items() if previous.get(name) != value}


def _integer(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(field, f"must be an integer, got {value!r}", vendor="exigo") from exc
