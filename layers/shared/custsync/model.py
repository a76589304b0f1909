"""The canonical customer model every source maps into and every vendor maps out of.

"Not sent" and "cleared" are different things: a field left out of a change is
absent from ``model_fields_set`` and keeps its old value when merged; a field
sent as ``null`` is in ``model_fields_set`` and clears the value.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

CustomerKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
# Notes are long at some vendors (Expandable: 32,765); each connector enforces its vendor's own limit.
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=65_535)]


def _iso_country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise ValueError("must be an ISO-3166 alpha-2 country code, such as 'SE' or 'US'")
    return code


CountryCode = Annotated[str, AfterValidator(_iso_country)]


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    DELETED = "deleted"


class Partial(BaseModel):
    """A model whose unset fields mean "unchanged" when merged onto an older copy."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_clears(cls, data: Any) -> Any:
        """``""`` (or only spaces) clears a field as ``null`` does, whoever sent it: one rule for every source."""
        if not isinstance(data, dict):
            return data
        return {name: _blank_is_none(value) if name != "key" else value for name, value in data.items()}

    def merged_onto(self, older: Self | None) -> Self:
        """Return ``older`` with every field this change sent applied on top of it."""
        if older is None:
            return self.model_copy(deep=True)
        update: dict[str, Any] = {}
        for name in self.model_fields_set:
            new_value = getattr(self, name)
            old_value = getattr(older, name)
            if isinstance(new_value, Partial) and isinstance(old_value, Partial):
                update[name] = new_value.merged_onto(old_value)
            elif isinstance(new_value, dict) and isinstance(old_value, dict):
                update[name] = _merge_mapping(old_value, new_value)
            else:
                update[name] = new_value
        merged = older.model_copy(update=update, deep=True)
        # model_copy(update=...) does not record the updated names as set.
        merged.__pydantic_fields_set__ = set(older.model_fields_set) | set(self.model_fields_set)
        return merged


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, dict) and all(isinstance(item, str | None) for item in value.values()):
        return {name: _blank_is_none(item) for name, item in value.items()}  # attributes: a blank value clears a key
    return value


def _merge_mapping(older: dict[str, str | None], newer: dict[str, str | None]) -> dict[str, str | None]:
    # A cleared key stays, as None, so "cleared" is still told apart from "never sent".
    return {**older, **newer}


class Address(Partial):
    line1: Text | None = None
    line2: Text | None = None
    line3: Text | None = None
    city: Text | None = None
    region: Text | None = Field(default=None, description="State, province or county.")
    postal_code: Text | None = None
    country: CountryCode | None = Field(default=None, description="ISO-3166 alpha-2, e.g. 'SE'.")


class Phones(Partial):
    main: Text | None = None
    mobile: Text | None = None
    fax: Text | None = None


class Customer(Partial):
    key: CustomerKey = Field(description="The source system's stable customer key; FIFO group and vendor RefCode.")
    first_name: Text | None = None
    last_name: Text | None = None
    company: Text | None = None
    email: EmailStr | None = None
    phones: Phones | None = None
    address: Address | None = None
    website: Text | None = None
    status: CustomerStatus | None = None
    notes: LongText | None = None
    attributes: dict[str, str | None] | None = Field(
        default=None,
        description="Free custom fields; vendors map them through configured field maps. A null value clears a key.",
    )

    def display_name(self) -> str | None:
        """The company name if there is one, else "first last"."""
        if self.company:
            return self.company
        parts = [part for part in (self.first_name, self.last_name) if part]
        return " ".join(parts) or None

    def attribute(self, name: str) -> str | None:
        return (self.attributes or {}).get(name)


ChangeKind = Literal["update", "delete", "erase"]


class CustomerChange(BaseModel):
    """The body of every vendor-queue message: one change to one customer.

    ``kind``: ``update`` (the default) carries fields; ``delete`` (the customer was deleted at the source: each
    vendor does what the routing file's ``on_delete`` says) and ``erase`` (remove what customer-sync holds of the
    customer: its values in the state table, its parked messages) carry the key alone.
    """

    model_config = ConfigDict(extra="forbid")

    change_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="Unique per change; the SQS FIFO deduplication id."
    )
    source: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Where the change came from: 'shopify', 'batch', 'api', ..."
    )
    occurred_at: AwareDatetime = Field(description="When the change happened at the source; orders changes.")
    kind: ChangeKind = Field(
        default="update",
        description="update (fields), delete (deleted at the source) or erase (forget the customer's personal data).",
    )
    customer: Customer
    vendor_ids: dict[str, str] = Field(
        default_factory=dict,
        description="Known vendor-side ids, keyed by vendor name (e.g. {'exsalerate': '42'}).",
    )

    @field_validator("customer")
    @classmethod
    def _key_alone_unless_update(cls, customer: Customer, info: ValidationInfo) -> Customer:
        kind = info.data.get("kind", "update")
        sent = customer.model_fields_set - {"key"}
        if kind != "update" and sent:
            raise ValueError(f"a {kind} carries the customer's key alone, not {', '.join(sorted(sent))}")
        return customer


def customer_change_json_schema() -> dict[str, Any]:
    schema = CustomerChange.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://customer-sync.example/schemas/customer-change.json"
    return schema


def utc_now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def known_value(model: BaseModel, path: str) -> tuple[bool, Any]:
    """Whether the dotted field ``path`` was ever sent (set or cleared), and its value.

    ``known_value(customer, "phones.mobile")`` is ``(False, None)`` when no change
    has mentioned the mobile phone, and ``(True, None)`` when one cleared it.
    """
    head, _, rest = path.partition(".")
    if head not in model.model_fields_set:
        return False, None
    value = getattr(model, head)
    if not rest:
        return True, value
    if value is None:
        return True, None
    return known_value(value, rest)
