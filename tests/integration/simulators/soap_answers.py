"""Reading SOAP simulator answers in tests."""

from __future__ import annotations

import httpx
from lxml import etree

from hostile_xml import SECRET, Bait

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def fault_of(response: httpx.Response) -> tuple[str, str]:
    """(faultcode, faultstring) of a SOAP 1.1 Fault answer."""
    assert response.status_code == 500, response.text
    assert response.headers["Content-Type"].startswith("text/xml"), response.text
    fault = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, response.text
    return fault.findtext("faultcode") or "", fault.findtext("faultstring") or ""


def assert_refused_unread(response: httpx.Response, found: Bait) -> None:
    """A request carrying a DTD is a ``Client`` fault naming it: no entity expanded, nothing fetched."""
    code, text = fault_of(response)
    assert code == "soap:Client"
    assert "DTD" in text
    assert SECRET not in response.text and "lol" not in response.text
    assert found.hits == [], "nothing may be fetched"
