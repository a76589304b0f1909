"""What the SOAP simulators share: reading a SOAP 1.1 request strictly and answering like a SOAP server.

The schema a request is validated against is the XSD inside the WSDL the
connector ships, so a connector and its simulator agree on the contract and
the simulator still rejects any envelope that breaks it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.wrappers import Request, Response

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
SOAP_CONTENT_TYPE = "text/xml"


class SoapFault(Exception):
    """Answered as a SOAP 1.1 Fault (HTTP 500, as ASP.NET and PHP SOAP servers do)."""

    def __init__(self, side: str, message: str) -> None:
        super().__init__(message)
        self.side = side  # "Client", "Server" or "MustUnderstand"
        self.message = message


@dataclass
class SoapRequest:
    action: str
    header: etree._Element | None
    body: etree._Element


class SoapContract:
    """The XSD and the SOAPAction -> body element table of one hand-written WSDL."""

    def __init__(self, wsdl_path: Path) -> None:
        self.wsdl_path = wsdl_path
        document = etree.parse(str(wsdl_path))
        schema_element = document.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
        if schema_element is None:
            raise ValueError(f"{wsdl_path}: no XSD under wsdl:types")
        # A standalone copy that keeps the prefixes declared on wsdl:definitions (the XSD's QNames use them).
        nsmap = {prefix: uri for prefix, uri in schema_element.nsmap.items() if prefix is not None}
        standalone = etree.Element(schema_element.tag, attrib=dict(schema_element.attrib), nsmap=nsmap)
        standalone.extend(copy.deepcopy(child) for child in schema_element)
        self.schema = etree.XMLSchema(standalone)
        self.target_namespace = str(schema_element.get("targetNamespace"))

    def read(self, request: Request, actions: dict[str, str]) -> SoapRequest:
        """The validated request; ``actions`` maps each SOAPAction to its body element's local name."""
        if request.method != "POST":
            raise SoapFault("Client", f"SOAP requests are POSTed, not sent with {request.method}")
        if (request.mimetype or "").lower() != SOAP_CONTENT_TYPE:
            raise SoapFault(
                "Client", f"Content-Type must be {SOAP_CONTENT_TYPE} for SOAP 1.1, not {request.mimetype!r}"
            )
        action = (request.headers.get("SOAPAction") or "").strip().strip('"')
        if action not in actions:
            raise SoapFault("Client", f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
        envelope = parse(request.get_data())
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            raise SoapFault("Client", "The root element must be a SOAP 1.1 Envelope")
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        children = list(body) if body is not None else []
        if len(children) != 1:
            raise SoapFault("Client", "The SOAP Body must hold exactly one element")
        expected = f"{{{self.target_namespace}}}{actions[action]}"
        if children[0].tag != expected:
            raise SoapFault("Client", f"SOAPAction {action} does not match the body element {children[0].tag}")
        self.validate(children[0])
        return SoapRequest(action, header, children[0])

    def validate(self, element: etree._Element) -> None:
        """Check a header or body block against the XSD; its SOAP attributes (mustUnderstand, actor,
        encodingStyle) belong to the envelope, not to the block's schema type."""
        block = copy.deepcopy(element)
        for name in [name for name in block.attrib if str(name).startswith(f"{{{SOAP_ENV}}}")]:
            del block.attrib[name]
        if not self.schema.validate(etree.ElementTree(block)):
            log = str(self.schema.error_log).strip()
            detail = log.splitlines()[-1] if log else "invalid"
            raise SoapFault("Client", f"The request does not match the schema: {detail}")

    def child_text(self, element: etree._Element, name: str) -> str | None:
        child = element.find(f"{{{self.target_namespace}}}{name}")
        return None if child is None else (child.text or "")


class _DoctypeFound(Exception):
    pass


class _StopAtDoctype:
    """A parser target that builds nothing and stops the parser at ``<!DOCTYPE``, before any
    declaration in it is read."""

    def doctype(self, name: str, public_id: str | None, system_id: str | None) -> None:
        raise _DoctypeFound

    def start(self, tag: str | bytes, attrib: dict[str | bytes, str | bytes]) -> None: ...
    def end(self, tag: str | bytes) -> None: ...
    def data(self, data: str | bytes) -> None: ...
    def comment(self, text: str | bytes) -> None: ...
    def close(self) -> None: ...


def parse(data: bytes) -> etree._Element:
    """A request's root element, or a ``soap:Client`` fault for anything not well-formed or with a DTD.

    SOAP 1.1 forbids a DTD, and ASP.NET (``DtdProcessing.Prohibit``) and PHP's SoapServer refuse one, so
    a first pass stops at the DOCTYPE: no entity is ever declared, expanded or fetched. Comments and
    processing instructions are dropped, as the servers' readers skip them, so a value split by a
    comment reads whole and nothing else sees them.
    """
    options: dict[str, Any] = {"resolve_entities": False, "no_network": True, "load_dtd": False}
    try:
        etree.fromstring(data, etree.XMLParser(target=_StopAtDoctype(), **options))
        return etree.fromstring(data, etree.XMLParser(remove_comments=True, remove_pis=True, **options))
    except _DoctypeFound:
        raise SoapFault("Client", "DTD is prohibited in SOAP messages.") from None
    except etree.XMLSyntaxError as exc:
        raise SoapFault("Client", f"Malformed XML: {exc}") from exc


def envelope(body_xml: str, status: int = 200) -> Response:
    document = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="{SOAP_ENV}">'
        f"<soap:Body>{body_xml}</soap:Body></soap:Envelope>"
    )
    return Response(document, status=status, content_type="text/xml; charset=utf-8")


def fault_response(side: str, message: str) -> Response:
    return envelope(
        f"<soap:Fault><faultcode>soap:{side}</faultcode><faultstring>{escape(message)}</faultstring></soap:Fault>",
        status=500,
    )
