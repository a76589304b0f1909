import pytest

from custsync.observability import redact_payload, redact_text


def test_emails_and_phone_numbers_in_vendor_messages_are_masked() -> None:
    text = "Customer ada@example.com with phone +46 70 123 45 67 already exists (id 42)"
    masked = redact_text(text)
    assert "ada@example.com" not in masked
    assert "123 45 67" not in masked
    assert "(id 42)" in masked


def test_personal_keys_are_erased_at_any_depth() -> None:
    payload = {"change_id": "c-1", "customer": {"key": "k1", "email": "ada@example.com", "address": {"city": "Lund"}}}
    erased = redact_payload(payload)
    assert erased["change_id"] == "c-1"
    assert erased["customer"]["key"] == "k1"
    assert "ada@example.com" not in str(erased)
    assert "Lund" not in str(erased)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("reach first.last+tag@mail.example.co.uk now", "reach ***** now"),
        ("call 555-1234 or (08) 123 45 67", "call ***** or (*****"),
        ("order 12345 of 2 items", "order 12345 of 2 items"),
        ("a@b is not an address", "a@b is not an address"),
    ],
)
def test_redaction_masks_addresses_and_phone_numbers_only(text: str, kept: str) -> None:
    assert redact_text(text) == kept


@pytest.mark.parametrize(
    "adversarial",
    ["a" * 50_000, "x@" + "a" * 50_000, "1" + " " * 50_000, "1 " * 25_000 + "x", "a.b+c-" * 10_000],
)
def test_redaction_of_pathological_text_still_masks_what_follows(adversarial: str) -> None:
    """The inputs that made the old patterns quadratic (see benchmarks/ for the timing)."""
    assert redact_text(adversarial + " then ada@example.com").endswith(" then *****")
