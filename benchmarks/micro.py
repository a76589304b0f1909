"""In-process measures of single pieces: redaction (linear on 1 MB), mapping, a WSDL parse."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.stats import Row, Samples, timed
from custsync.config import VendorSettings
from custsync.connector import SyncContext, call_limits
from custsync.model import Customer

CUSTOMER = {
    "key": "BENCH-1",
    "company": "Northwind",
    "email": "bench@northwind.example",
    "phones": {"main": "+4681234567", "mobile": "+46701112233"},
    "address": {"region": "Stockholm", "country": "SE"},
    "status": "active",
    "notes": "Key account",
    "attributes": {"rank": "Gold", "industry": "Retail"},
}
# The patterns redact_text used before it was made linear, for comparison.
OLD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
OLD_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
ADVERSARIAL = {
    "no @ anywhere": "ab.cd+ef-",
    "digits and gaps": "1 2 3 (4) 5-",
    "text with addresses": "Customer ada@example.com, phone +46 70 123 45 67, already exists. ",
}


def redaction_rows() -> list[Row]:
    """redact_text on 1 MB beside 512 KB from the same run: linear when the ratio is 2."""
    from custsync.observability import redact_text

    rows = []
    for name, unit in ADVERSARIAL.items():

        def on(size: int, unit: str = unit) -> Samples:
            text = (unit * (size // len(unit) + 1))[:size]
            return Samples.of(timed(lambda: redact_text(text), 5))

        old_text = (unit * (20_000 // len(unit) + 1))[:20_000]
        old = Samples.of(timed(lambda text=old_text: OLD_PHONE.sub("*", OLD_EMAIL.sub("*", text)), 3))  # type: ignore[misc]
        measured, half = on(1024 * 1024), on(512 * 1024)
        ratio = measured.median / half.median
        rows.append(
            Row(
                f"redact_text on 1 MB, {name}",
                measured,
                half,
                "linear: ≤ 2.5x the 512 KB time",
                ratio <= 2.5,
                f"floor: 512 KB of the same; the old patterns took {old.median:.0f} ms on 20 KB",
            )
        )
    return rows


def mapping_row() -> Row:
    from exsalerate.connector import ExsalerateConnector

    settings = VendorSettings(vendor="exsalerate", state_table="t", vendor_secret_name="s", dlq_url="q")
    secret = {"base_url": "http://127.0.0.1:9", "username": "u", "password": "p", "assigned_to_email": "a@b.example"}
    connector = ExsalerateConnector(settings, lambda force: secret)
    customer = Customer.model_validate(CUSTOMER)
    context = SyncContext(ids={"id": "1"})
    samples = Samples.of(timed(lambda: connector.to_request(customer, context), 2000, scale=1e6), "µs")
    return Row("Exsalerate mapping (to_request), per change", samples, None, "-", None, "pure, no I/O")


def wsdl_rows() -> list[Row]:
    from custsync.transport import soap

    settings = VendorSettings(vendor="centra", state_table="t", vendor_secret_name="s", dlq_url="q")
    rows = []
    for vendor in ("exigo", "centra"):
        path = Path(__file__).resolve().parents[1] / "functions" / vendor / f"{vendor}.wsdl"

        def parse(path: Path = path, vendor: str = vendor) -> None:
            soap.load_wsdl.cache_clear()
            soap.load_wsdl(path, vendor, call_limits(settings))

        samples = Samples.of(timed(parse, 15))
        rows.append(Row(f"{vendor}.wsdl parse, once per container", samples, None, "-", None, "before the snapshot"))
    return rows
