"""Expandable: ``POST /api/customer-contact-update`` with an ``AUTH_TOKEN`` in the body.

The token comes from ``POST /api/auth-token-get`` once per container and is
reused for every record; a 401 gets a new token once (the runtime refreshes the
credentials and retries the record), a second 401 is permanent.

The contact is identified by ``CUSTOMER_ID`` (``vendor_ids["expandable"]``, else
the canonical key) and ``CUST_CONTACT`` (``vendor_ids["expandable.contact"]``,
else the code remembered from the first sync, else derived once: first initial
and last name, upper-case, letters and digits only, at most 20 characters, e.g.
"JHERNANDEZ"; "PRIMARY" when there is no name). A derived code is stored with
the customer's state, so a later name change does not move the contact.

A contact Expandable does not have yet ("Customer Contact not found.") is created
with ``POST /api/customer-contact-create`` and the same fields: a sync is an upsert.
"""

from __future__ import annotations

import re
from typing import Any

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
    known_value,
)

OPERATION = "POST /api/customer-contact-update"
KEY_FIELDS = ("CUSTOMER_ID", "CUST_CONTACT")
# Every updatable field of the documented Full Request JSON (keys and AUTH_TOKEN aside).
CONTACT_FIELDS = (
    "CONTACT_STATUS", "FIRST_NAME", "LAST_NAME", "INITIAL", "TITLE", "MAIL_STOP", "ADDRESS_1", "ADDRESS_2",
    "ADDRESS_3", "CITY", "STATE", "ZIP_CODE", "COUNTRY", "PHONE_NO", "FAX_NO", "CELL_PHONE_NO", "PAGER_NO",
    "E_MAIL", "E_MAIL_2", "WEB_ADDRESS", *(f"SOFCT_USER_{n}" for n in range(1, 17)), "NOTES", "ATTACHMENTS",
)  # fmt: skip
CANONICAL_FIELDS = {
    "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name",
    "ADDRESS_1": "address.line1",
    "ADDRESS_2": "address.line2",
    "ADDRESS_3": "address.line3",
    "CITY": "address.city",
    "STATE": "address.region",
    "ZIP_CODE": "address.postal_code",
    "COUNTRY": "address.country",
    "PHONE_NO": "phones.main",
    "FAX_NO": "phones.fax",
    "CELL_PHONE_NO": "phones.mobile",
    "E_MAIL": "email",
    "WEB_ADDRESS": "website",
    "NOTES": "notes",
}
DEFAULT_STATUS_CODES = {"active": "A", "inactive": "I", "suspended": "I", "deleted": "I"}
MAX_LENGTHS = {"NOTES": 32_765}
CONTACT_CODE_LENGTH = 20
CONTACT_NOT_FOUND = "Customer Contact not found."


def error_text(response: httpx.Response) -> str:
    """Expandable's ``{"MESSAGE", "MESSAGE_CODE"}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict) and "MESSAGE" in body:
        return f"{body.get('MESSAGE')} (MESSAGE_CODE {body.get('MESSAGE_CODE')})"
    return response.text[:300]


def contact_code(customer: Customer) -> str:
    initial = (customer.first_name or "")[:1]
    code = re.sub(r"[^A-Z0-9]", "", f"{initial}{customer.last_name or ''}".upper())
    return code[:CONTACT_CODE_LENGTH] or "PRIMARY"


class ExpandableSecret(VendorSecret):
    data_source: str = Field(min_length=1, examples=["DEMO"])
    user_name: str = Field(min_length=1, examples=["sync"])
    password: SecretStr = Field(min_length=1, examples=["example-password"])


class ExpandableConnector(Connector[ExpandableSecret]):
    name = "expandable"
    secret_model = ExpandableSecret
    status_field = "CONTACT_STATUS"

    def configure(self, secret: ExpandableSecret) -> None:
        # POST /api/auth-token-get's body (vendor-docs/NOTES.md, Expandable).
        self.credentials = {
            "DATA_SOURCE": secret.data_source,
            "USER_NAME": secret.user_name,
            "PASSWORD": secret.password.get_secret_value(),
        }
        self.status_codes = {**DEFAULT_STATUS_CODES, **self.settings.vendor_options.get("status_codes", {})}
        self.field_map = checked_field_map(self.settings.field_map, CONTACT_FIELDS, "Expandable's contact")
        self.client = RestClient(self.name, secret.base_url, limits=self.limits, error_text=error_text)
        self._token: str | None = None

    def token(self) -> str:
        """The container's auth token, fetched on first use (once, however many customers are in flight)."""
        with self.lock:
            if self._token is None:
                # Changes nothing at Expandable: a dry run fetches the token too, to show the update it goes in.
                response = self.client.request("POST", "api/auth-token-get", json=self.credentials, read_only=True)
                self._token = str(response.json()["AUTH_TOKEN"])
            return self._token

    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        contact: dict[str, Any] = {
            "CUSTOMER_ID": context.ids.get("id") or customer.key,
            "CUST_CONTACT": context.ids.get("contact") or contact_code(customer),
        }
        for vendor_field, path in CANONICAL_FIELDS.items():
            known, value = known_value(customer, path)
            if known:
                contact[vendor_field] = value or ""  # "" clears the field at Expandable
        if customer.status is not None:
            contact["CONTACT_STATUS"] = self.status_codes[customer.status.value]
        attributes = customer.attributes or {}
        for vendor_field, attribute in self.field_map.items():
            if attribute in attributes:
                contact[vendor_field] = attributes[attribute] or ""
        if not set(contact) - set(KEY_FIELDS):
            raise ValidationFailed(
                "fields", "Expandable needs at least one field to update besides the keys", vendor=self.name
            )
        check_lengths(contact, MAX_LENGTHS, self.name)
        return VendorRequest((VendorCall(OPERATION, contact),))

    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        (call,) = request.calls
        body = {**call.payload, "AUTH_TOKEN": self.token()}
        try:
            response = self.client.request("POST", "api/customer-contact-update", json=body)
        except PermanentError as exc:
            if exc.status != 400 or CONTACT_NOT_FOUND not in exc.reason:
                raise
            response = self.client.request("POST", "api/customer-contact-create", json=body)
        return SendResult(response=response.json(), ids={"id": body["CUSTOMER_ID"], "contact": body["CUST_CONTACT"]})
