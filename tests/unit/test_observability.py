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
