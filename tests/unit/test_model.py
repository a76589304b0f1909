import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from custsync.model import Customer, CustomerChange, customer_change_json_schema, known_value

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "customer-change.json"


def test_a_field_not_sent_keeps_its_value_and_a_cleared_field_is_cleared() -> None:
    older = Customer.model_validate(
        {"key": "c1", "first_name": "Ada", "notes": "vip", "phones": {"main": "+461", "mobile": "+462"}}
    )
    change = Customer.model_validate({"key": "c1", "notes": None, "phones": {"mobile": "+463"}})

    merged = change.merged_onto(older)

    assert merged.first_name == "Ada"
    assert merged.notes is None
    assert known_value(merged, "notes") == (True, None)
    assert merged.phones is not None
    assert (merged.phones.main, merged.phones.mobile) == ("+461", "+463")
    assert known_value(merged, "email") == (False, None)


def test_attributes_merge_key_by_key_and_null_clears_one_key() -> None:
    older = Customer.model_validate({"key": "c1", "attributes": {"rank": "Gold", "industry": "Retail"}})
    merged = Customer.model_validate({"key": "c1", "attributes": {"rank": None, "tier": "2"}}).merged_onto(older)

    assert merged.attributes == {"rank": None, "industry": "Retail", "tier": "2"}


def test_sent_and_cleared_survive_a_json_round_trip() -> None:
    change = CustomerChange.model_validate(
        {
            "change_id": "x",
            "source": "t",
            "occurred_at": "2026-01-01T00:00:00Z",
            "customer": {"key": "c1", "email": None},
        }
    )
    wire = change.model_dump_json(exclude_unset=True)
    again = CustomerChange.model_validate_json(wire)

    assert known_value(again.customer, "email") == (True, None)
    assert known_value(again.customer, "notes") == (False, None)


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({"key": "c1", "address": {"country": "Sweden"}}, "customer.address.country"),
        ({"key": "c1", "email": "not-an-email"}, "customer.email"),
        ({"key": "bad key with spaces"}, "customer.key"),
        ({"key": "c1", "shoe_size": 42}, "customer.shoe_size"),
    ],
)
def test_invalid_input_names_the_field(customer: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CustomerChange.model_validate(
            {"change_id": "x", "source": "t", "occurred_at": "2026-01-01T00:00:00Z", "customer": customer}
        )
    locations = {".".join(str(p) for p in error["loc"]) for error in caught.value.errors()}
    assert field in locations


def test_country_is_normalised_to_upper_case() -> None:
    assert Customer.model_validate({"key": "c", "address": {"country": "se"}}).address.country == "SE"  # type: ignore[union-attr]


def test_occurred_at_must_carry_a_zone() -> None:
    with pytest.raises(ValidationError, match="occurred_at"):
        CustomerChange.model_validate(
            {"change_id": "x", "source": "t", "occurred_at": "2026-01-01T00:00:00", "customer": {"key": "c"}}
        )


def test_the_published_json_schema_is_current() -> None:
    published = json.loads(SCHEMA_PATH.read_text())
    assert published == customer_change_json_schema(), "run `make schema` to regenerate schemas/customer-change.json"


def test_a_blank_string_clears_a_field_as_null_does_whoever_sent_it() -> None:
    customer = Customer.model_validate(
        {"key": "k", "email": "", "notes": "  ", "address": {"country": "", "line2": ""}, "attributes": {"tier": ""}}
    )
    assert customer.model_dump(exclude_unset=True) == {
        "key": "k",
        "email": None,
        "notes": None,
        "address": {"country": None, "line2": None},
        "attributes": {"tier": None},
    }
