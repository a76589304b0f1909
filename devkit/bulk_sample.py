"""Generated customer files for bulk loads: every row valid at every vendor, each customer once.

    python -m devkit.bulk_sample customers.csv --rows 100000

Used by the bulk-load tests and the enqueue benchmark; handy to try ``custsync enqueue`` on the local stack.
Everlytic updates only customers it has, by its own id: rows whose number is in ``everlytic_ids`` carry one
(``vendor_ids.everlytic``), the others are parked there naming the missing id.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

COLUMNS = [
    "key",
    "first_name",
    "last_name",
    "company",
    "email",
    "phones.mobile",
    "address.line1",
    "address.city",
    "address.postal_code",
    "address.country",
    "status",
    "attributes.tier",
    "vendor_ids.everlytic",
]
CITIES = [
    ("Stockholm", "SE", "111 51"),
    ("Oslo", "NO", "0150"),
    ("London", "GB", "SW1A 1AA"),
    ("Austin", "US", "73301"),
]
FIRST = ["Ada", "Grace", "Alan", "Katherine", "Dorothy", "Mary", "Annie", "Edsger", "Barbara", "Donald"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Vaughan", "Jackson", "Easley", "Dijkstra", "Liskov", "Knuth"]


def row(number: int, everlytic_ids: dict[int, int]) -> list[str]:
    city, country, postal = CITIES[number % len(CITIES)]
    first, last = FIRST[number % len(FIRST)], LAST[(number // len(FIRST)) % len(LAST)]
    return [
        f"BULK-{number:07d}",
        first,
        last,
        f"{last} {number} AB" if number % 3 == 0 else "",
        f"{first.lower()}.{last.lower()}.{number}@example.com",
        f"+4670{number:07d}",
        f"Storgatan {number % 200 + 1}",
        city,
        postal,
        country,
        "active",
        ("gold", "silver", "bronze")[number % 3],
        str(everlytic_ids[number]) if number in everlytic_ids else "",
    ]


def write_csv(path: Path, rows: int, everlytic_ids: dict[int, int] | None = None, start: int = 0) -> Path:
    """``rows`` customers numbered from ``start``; ``everlytic_ids``: row number -> Everlytic's customer id."""
    ids = everlytic_ids or {}
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for number in range(start, start + rows):
            writer.writerow(row(number, ids))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args(argv)
    write_csv(args.path, args.rows)
    print(f"wrote {args.rows} customers to {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
