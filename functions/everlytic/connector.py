"""Everlytic: ``UpdateCustomer`` over REST (``PUT /api/2.0/customers/{id}``) or XML-RPC, chosen by the secret.

Everlytic updates by its own integer customer id: ``vendor_ids["everlytic"]``
(remembered in the state table after the first sync). Only the properties that
changed since the last sync are sent, and always ``name`` (the page marks it
required). ``status``, ``deleted``, ``country`` and ``industry`` are checked
against the page's enumerations before any call.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator

from custsync.sdk import (
    Connector,
    Customer,
    RestClient,
    SendResult,
    SyncContext,
    ValidationFailed,
    VendorCall,
    VendorRequest,
    VendorSecret,
    VendorUrl,
    XmlRpcClient,
    checked_field_map,
    known_value,
    needed,
    require,
)

OPERATION = "UpdateCustomer"
INDUSTRIES = (
    "Personal Use",
    "Agriculture & Environmental",
    "Automotive",
    "Business & Consulting Services",
    "E-commerce",
    "Education & Training",
    "Financial Institutions",
    "Governmental Organisations",
    "Hospitality, Travel & Tourism",
    "Industry, Trade & Manufacture",
    "Lifestyle, Arts & Entertainment",
    "Logistic Services",
    "Publishing & Media",
    "Agencies & Marketing",
    "Medical & Healthcare",
    "Non Governmental Organisations",
    "Property & Real Estate",
    "Retail & Wholesale",
    "Technology & Science",
)
ENUMERATIONS: dict[str, tuple[str, ...]] = {
    "status": ("on", "off", "suspended", "deleted"),
    "deleted": ("yes", "no"),
    "industry": INDUSTRIES,
}
INTEGER_PROPERTIES = ("email_package_id", "email_quota", "sms_quota", "transactions_package_id", "transactions_quota")
STRING_PROPERTIES = (
    "name", "status", "email", "deleted", "address", "state_provinces", "postal_code", "telephone",
    "website_url", "country", "industry", "unique_id",
)  # fmt: skip
STATUS = {"active": "on", "inactive": "off", "suspended": "suspended", "deleted": "deleted"}
CANONICAL_PROPERTIES = {
    "email": "email",
    "state_provinces": "address.region",
    "postal_code": "address.postal_code",
    "telephone": "phones.main",
    "website_url": "website",
    "country": "address.country",
}
DEFAULT_FIELD_MAP = {"industry": "industry"}


class EverlyticSecret(VendorSecret):
    base_url: VendorUrl = Field(description="Your install.", examples=["https://yourinstall.everlytic.net"])
    api: Literal["rest", "xmlrpc"] = Field(default="rest", description="Which of Everlytic's APIs to call.")
    # The XML-RPC endpoint's path is not published: the whole URL.
    xmlrpc_url: VendorUrl | None = Field(
        default=None, description="The whole XML-RPC URL; required when api is xmlrpc."
    )
    username: str = Field(min_length=1, examples=["sync"])
    api_key: SecretStr = Field(min_length=1, examples=["example-api-key"])

    @model_validator(mode="after")
    def _xmlrpc_url_with_xmlrpc(self) -> Self:
        if self.api == "xmlrpc" and self.xmlrpc_url is None:
            raise ValueError("xmlrpc_url: is required when api is xmlrpc")
        return self


class EverlyticConnector(Connector[EverlyticSecret]):
    name = "everlytic"
    secret_model = EverlyticSecret
    status_field = "status"

    def configure(self, secret: EverlyticSecret) -> None:
        self.api = secret.api
        self.field_map = checked_field_map(
            {**DEFAULT_FIELD_MAP, **self.settings.field_map}, (*STRING_PROPERTIES, *INTEGER_PROPERTIES), "Everlytic"
        )
        self.client = RestClient(
            self.name,
            secret.base_url,
            auth=(secret.username, secret.api_key.get_secret_value()),
            limits=self.limits,
            headers={"Accept": "application/json"},
        )
        self.xmlrpc = (
            XmlRpcClient(self.client, secret.xmlrpc_url) if secret.xmlrpc_url and self.api == "xmlrpc" else None
        )

    def properties(self, customer: Customer) -> dict[str, Any]:
        """Every property the canonical customer determines, validated."""
        props: dict[str, Any] = {"unique_id": customer.key}
        name = customer.display_name()
        if name:
            props["name"] = name
        for prop, path in CANONICAL_PROPERTIES.items():
            known, value = known_value(customer, path)
            if known:
                props[prop] = value or ""
        address_known, address = known_value(customer, "address")
        if address_known:
            lines = [address.line1, address.line2, address.line3] if address else []
            props["address"] = ", ".join(line for line in lines if line)
        if customer.status is not None:
            props["status"] = STATUS[customer.status.value]
            props["deleted"] = "yes" if customer.status.value == "deleted" else "no"
        attributes = customer.attributes or {}
        for prop, attribute in self.field_map.items():
            if attribute in attributes:
                props[prop] = attributes[attribute] or ""
        self._validate(props)
        return props

    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        customer_id = require(context.ids.get("id"), "vendor_ids.everlytic", self.name)
        if not customer_id.isdigit():
            raise ValidationFailed(
                "vendor_ids.everlytic", f"must be Everlytic's integer customer id, got {customer_id!r}"
            )
        props = self.properties(customer)
        previous = self.properties(context.previous) if context.previous is not None else {}
        changed = {key: value for key, value in props.items() if previous.get(key) != value}
        changed["name"] = needed(props.get("name"), "name", self.name)
        return VendorRequest((VendorCall(OPERATION, {"id": int(customer_id), "properties": changed}),))

    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        (call,) = request.calls
        customer_id, props = call.payload["id"], call.payload["properties"]
        if self.xmlrpc is not None:
            return SendResult(response={"id": self.xmlrpc.call("UpdateCustomer", customer_id, props)})
        response = self.client.request("PUT", f"api/2.0/customers/{customer_id}", json=props)
        return SendResult(response=response.json())

    def _validate(self, props: dict[str, Any]) -> None:
        for prop, allowed in ENUMERATIONS.items():
            value = props.get(prop)
            if value not in (None, "") and value not in allowed:
                raise ValidationFailed(prop, f"{value!r} is not one of Everlytic's values", vendor=self.name)
        country = props.get("country")
        if country and (len(country) != 2 or not country.isalpha()):
            raise ValidationFailed("country", "must be a two-letter country code", vendor=self.name)
        for prop in INTEGER_PROPERTIES:
            if prop in props and props[prop] != "":
                try:
                    props[prop] = int(props[prop])
                except (TypeError, ValueError) as exc:
                    raise ValidationFailed(prop, f"must be an integer, got {props[prop]!r}", vendor=self.name) from exc
