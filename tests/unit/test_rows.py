"""A bulk file's rows as canonical changes: columns mapped, cells absent or cleared, bad rows named by line and
field, and the same row always the same change id."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from custsync.model import CustomerChange
from devkit.inputs import InputError
from devkit.rows import ColumnMapping, Defaults, Problem, Row, rows

DEFAULTS = Defaults("batch", datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
PATH = Path("customers.csv")


def read(text: str, fmt: str = "csv", mapping: ColumnMapping | None = None) -> list[Row | Problem]:
    return list(rows(io.StringIO(text, newline=""), PATH, fmt, mapping or ColumnMapping(), DEFAULTS))  # type: ignore[arg-type]


def changes(text: str, fmt: str = "csv", mapping: ColumnMapping | None = None) -> list[CustomerChange]:
    found = read(text, fmt, mapping)
    assert all(isinstance(item, Row) for item in found), found
    return [item.change for item in found if isinstance(item, Row)]


def test_canonical_columns_become_the_customer_and_an_empty_cell_is_not_sent() -> None:
    (change,) = changes("key,email,address.city,attributes.tier,vendor_ids.everlytic\nC1,a@b.se,,gold,9001\n")
    assert change.customer.model_dump(exclude_unset=True) == {
        "key": "C1",
        "email": "a@b.se",
        "attributes": {"tier": "gold"},
    }
    assert change.vendor_ids == {"everlytic": "9001"}
    assert (change.source, change.occurred_at) == ("batch", DEFAULTS.occurred_at)


def test_a_mapping_file_names_other_columns_and_ignores_some(tmp_path: Path) -> None:
    mapping_file = tmp_path / "columns.yaml"
    mapping_file.write_text('columns:\n  "Customer No": key\n  E-mail: email\n  Tier: attributes.tier\n  Internal: ~\n')
    mapping = ColumnMapping.load(mapping_file)
    (change,) = changes("Customer No,E-mail,Tier,Internal\nC1,a@b.se,gold,secret note\n", mapping=mapping)
    assert change.customer.model_dump(exclude_unset=True) == {
        "key": "C1",
        "email": "a@b.se",
        "attributes": {"tier": "gold"},
    }


def test_the_same_content_is_the_same_change_id_whatever_the_columns_are_called_or_ordered(tmp_path: Path) -> None:
    mapping_file = tmp_path / "columns.yaml"
    mapping_file.write_text("columns:\n  id: key\n  mail: email\n")
    (first,) = changes("key,email\nC1,a@b.se\n")
    (again,) = changes("email,key\na@b.se,C1\n")
    (renamed,) = changes("id,mail\nC1,a@b.se\n", mapping=ColumnMapping.load(mapping_file))
    (other,) = changes("key,email\nC1,b@b.se\n")
    assert first.change_id.startswith("bulk-")
    assert first.change_id == again.change_id == renamed.change_id
    assert other.change_id != first.change_id


def test_a_rows_own_change_id_and_occurred_at_are_kept() -> None:
    (change,) = changes("change_id,occurred_at,key,company\nmine-1,2026-01-02T03:04:05Z,C1,Acme\n")
    assert change.change_id == "mine-1"
    assert change.occurred_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_json_lines_of_customers_and_of_changes_and_null_clears() -> None:
    customer = {"key": "C1", "address": {"city": "Oslo"}, "phones": {"mobile": None}, "attributes": {"a.b": "x"}}
    change = {
        "change_id": "ch-1",
        "source": "crm",
        "occurred_at": "2026-11-20T10:00:00+01:00",
        "customer": {"key": "C2", "company": None},
        "vendor_ids": {"exigo.extended_group_id": "2"},
    }
    first, second = changes(json.dumps(customer) + "\n\n" + json.dumps(change) + "\n", fmt="jsonl")
    assert first.customer.model_dump(exclude_unset=True) == {
        "key": "C1",
        "address": {"city": "Oslo"},
        "phones": {"mobile": None},
        "attributes": {"a.b": "x"},
    }
    assert second.model_dump(mode="json", exclude_unset=True) == change


def test_bad_rows_are_named_by_line_and_field_and_the_good_ones_still_read() -> None:
    found = read('key,email,address.country\nC1,a@b.se,SE\nC 2,nope,Sweden\n"C3",c@d.se\n\nC4,d@e.se,NO\n')
    assert [type(item).__name__ for item in found] == ["Row", "Problem", "Problem", "Row"]
    bad = str(found[1])
    assert bad.startswith("line 3: ")
    assert "key: String should match pattern" in bad
    assert "email: value is not a valid email address" in bad
    assert "address.country: must be an ISO-3166 alpha-2 country code" in bad
    assert str(found[2]) == "line 4: has 2 fields; the header has 3"
    assert isinstance(found[3], Row) and found[3].line == 6


def test_a_mapped_column_is_named_in_its_problem(tmp_path: Path) -> None:
    mapping_file = tmp_path / "columns.yaml"
    mapping_file.write_text("columns:\n  E-mail: email\n")
    (problem,) = read("key,E-mail\nC1,nope\n", mapping=ColumnMapping.load(mapping_file))
    assert str(problem).startswith("line 2: E-mail (email): value is not a valid email address")


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("key,Email Address", "column 'Email Address' is not a canonical field: map it with --mapping"),
        ("key,email,customer.email", "columns 'email' and 'customer.email' both map to email"),
    ],
)
def test_a_header_the_model_cannot_take_stops_the_file(header: str, named: str) -> None:
    with pytest.raises(InputError, match=named):
        read(f"{header}\nC1,a@b.se\n")


def test_json_lines_problems_are_per_line() -> None:
    found = read('{"key": "C1"}\n[1]\n{"key": \n{"key": "C2", "shoe_size": 44}\n', fmt="jsonl")
    assert [str(item) for item in found if isinstance(item, Problem)] == [
        "line 2: must be a JSON object (a customer or a change)",
        "line 3: not valid JSON (Expecting value at character 10)",
        "line 4: shoe_size: not a canonical field (map it with --mapping)",
    ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("columns:\n  a: shoe_size\n", "'shoe_size' is not a canonical path"),
        ("[1, 2]\n", "must be a mapping with one key, columns"),
        ("columns: {a: key}\nextra: 1\n", "must be a mapping with one key, columns"),
        ("columns: [\n", "not valid YAML"),
    ],
)
def test_a_bad_mapping_file_is_named(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "columns.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=named):
        ColumnMapping.load(path)


def test_a_row_checked_without_its_id_is_measured_as_it_will_be_sent() -> None:
    from devkit.enqueue import MESSAGE_BYTES, _too_large
    from devkit.rows import NO_ID

    def both(value: str) -> tuple[bool, bool]:
        """Too large when checked (pass 1, no id yet), and when sent (pass 2, its derived id)."""
        text = json.dumps({"key": "C1", "attributes": {"big": value}}) + "\n"
        checked, sent = (
            [
                item
                for item in rows(io.StringIO(text), PATH, "jsonl", ColumnMapping(), DEFAULTS, derive)
                if isinstance(item, Row)
            ]
            for derive in (False, True)
        )
        assert checked[0].change.change_id == NO_ID
        return _too_large(checked[0]) is not None, _too_large(sent[0]) is not None

    (sent,) = changes(json.dumps({"key": "C1", "attributes": {"big": "x"}}) + "\n", fmt="jsonl")
    overhead = len(sent.model_dump_json(exclude_unset=True).encode()) - 1  # all but the value's one character
    fits = "n" * (MESSAGE_BYTES - overhead)
    assert both(fits) == (False, False)
    assert both(fits + "n") == (True, True)
