"""A strict Everlytic simulator: ``UpdateCustomer`` over REST and XML-RPC, one state, one set of rules.

- REST ``PUT /api/2.0/customers/<id>``: HTTP Basic ``username:api_key``, ``Content-Type:
  application/json``; answers ``{"links": [...], "item": {...}}``; errors ``{"error": {"message"}}``
  (401 credentials, 400 validation, 404 unknown customer, 405 method, 415 content type). As the
  vendor, it answers JSON only to ``Accept: application/json`` and XML (``<response>``) otherwise.
- XML-RPC ``POST /xmlrpc`` (path configurable), HTTP Basic as REST: ``UpdateCustomer(int id,
  struct properties) -> int``; errors are Faults with faultCode 401 (credentials), 400
  (validation), 404 (unknown customer), -32601 (unknown method), -32700 (malformed XML).
- Rules: properties from the page's table only (``hash`` and ``id`` are read-only); ``name`` is
  required: every update must carry a non-empty ``name`` (the page lists it as required for the
  properties struct); ``status`` on/off/suspended/deleted; ``deleted`` yes/no; ``country`` two
  letters; ``industry`` one of the page's values; the quota/package properties integers; the rest
  strings. Customers must exist (``seed_customer``); only the properties sent change.
"""

from __future__ import annotations

import base64
import hashlib
import json
import xmlrpc.client
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from devkit.simulators.base import Simulator

INDUSTRIES = (
    "Personal Use", "Agriculture & Environmental", "Automotive", "Business & Consulting Services", "E-commerce",
    "Education & Training", "Financial Institutions", "Governmental Organisations", "Hospitality, Travel & Tourism",
    "Industry, Trade & Manufacture", "Lifestyle, Arts & Entertainment", "Logistic Services", "Publishing & Media",
    "Agencies & Marketing", "Medical & Healthcare", "Non Governmental Organisations", "Property & Real Estate",
    "Retail & Wholesale", "Technology & Science",
)  # fmt: skip
ENUMS = {"status": ("on", "off", "suspended", "deleted"), "deleted": ("yes", "no"), "industry": INDUSTRIES}
INTEGERS = ("email_package_id", "email_quota", "sms_quota", "transactions_package_id", "transactions_quota")
STRINGS = (
    "name", "status", "email", "deleted", "address", "state_provinces", "postal_code", "telephone",
    "website_url", "country", "industry", "unique_id",
)  # fmt: skip
READ_ONLY = ("id", "hash")


class EverlyticError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class EverlyticSimulator(Simulator):
    name = "everlytic"
    status_values = {"active": "on", "inactive": "off"}

    def __init__(self, username: str = "sync", api_key: str = "sync-key", xmlrpc_path: str = "/xmlrpc") -> None:
        self.username = username
        self.api_key = api_key
        self.xmlrpc_path = xmlrpc_path
        super().__init__()

    def rules(self) -> list[Rule]:
        return [
            Rule("/api/2.0/customers/<int:customer_id>", endpoint="rest_update", methods=["PUT"]),
            Rule(self.xmlrpc_path, endpoint="xmlrpc", methods=["POST"]),
        ]

    def error_response(self, status: int, message: str, *, request: Request | None = None) -> Response:
        return self._answer(request, status, {"error": {"message": message}})

    @staticmethod
    def _answer(request: Request | None, status: int, body: dict[str, Any]) -> Response:
        """JSON when the caller accepts JSON, the vendor's XML form otherwise."""
        if request is None or "application/json" in request.headers.get("Accept", ""):
            return Response(json.dumps(body), status=status, mimetype="application/json")
        root = ElementTree.Element("response")
        _to_xml(root, body)
        return Response(ElementTree.tostring(root, encoding="unicode"), status=status, mimetype="application/xml")

    def seed_customer(self, customer_id: int, **properties: Any) -> dict[str, Any]:
        record = {"id": customer_id, **dict.fromkeys(STRINGS, ""), **dict.fromkeys(INTEGERS, 0), **properties}
        record["hash"] = hashlib.sha1(f"customer-{customer_id}".encode(), usedforsecurity=False).hexdigest()
        self.records[str(customer_id)] = record
        return record

    # -- transports ----------------------------------------------------------------------------
    def rest_update(self, request: Request, customer_id: int) -> Response:
        try:
            self._check_auth(request)
            if (request.mimetype or "") != "application/json":
                raise EverlyticError(415, "Content-Type must be application/json.")
            try:
                properties = json.loads(request.get_data() or b"null")
            except json.JSONDecodeError as exc:
                raise EverlyticError(400, "The request body is not valid JSON.") from exc
            record = self.update_customer(customer_id, properties)
        except EverlyticError as exc:
            return self.error_response(exc.status, exc.message, request=request)
        links = [{"title": "self", "rel": "self", "href": f"/api/2.0/customers/{customer_id}"}]
        return self._answer(request, 200, {"links": links, "item": record})

    def xmlrpc(self, request: Request) -> Response:
        try:
            self._check_auth(request)
            try:
                params, method = xmlrpc.client.loads(request.get_data())
            except Exception as exc:  # the parser raises several types for bad XML
                raise xmlrpc.client.Fault(-32700, f"parse error: {exc}") from exc
            if method != "UpdateCustomer":
                raise xmlrpc.client.Fault(-32601, f"method {method!r} is not supported")
            if len(params) != 2 or not isinstance(params[0], int) or isinstance(params[0], bool):
                raise EverlyticError(400, "UpdateCustomer takes (int id, struct properties)")
            self.update_customer(params[0], params[1])
            reply = xmlrpc.client.dumps((params[0],), methodresponse=True)
        except EverlyticError as exc:
            reply = xmlrpc.client.dumps(xmlrpc.client.Fault(exc.status, exc.message))
        except xmlrpc.client.Fault as fault:
            reply = xmlrpc.client.dumps(fault)
        return Response(reply, status=200, content_type="text/xml")

    def _check_auth(self, request: Request) -> None:
        expected = base64.b64encode(f"{self.username}:{self.api_key}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            raise EverlyticError(401, "Invalid username or API key.")

    # -- the vendor's rules -------------------------------------------------------------------
    def update_customer(self, customer_id: int, properties: Any) -> dict[str, Any]:
        if not isinstance(properties, dict):
            raise EverlyticError(400, "properties must be an object.")
        record = self.records.get(str(customer_id))
        if record is None:
            raise EverlyticError(404, f"Customer {customer_id} not found.")
        for name, value in properties.items():
            self._check(name, value)
        if not properties.get("name"):
            raise EverlyticError(400, "name is required.")
        record.update(properties)
        return record

    @staticmethod
    def _check(name: str, value: Any) -> None:
        if name in READ_ONLY:
            raise EverlyticError(400, f"{name} is read-only.")
        if name in INTEGERS:
            if not isinstance(value, int) or isinstance(value, bool):
                raise EverlyticError(400, f"{name} must be an integer.")
            return
        if name not in STRINGS:
            raise EverlyticError(400, f"{name} is not a customer property.")
        if not isinstance(value, str):
            raise EverlyticError(400, f"{name} must be a string.")
        if name in ENUMS and value and value not in ENUMS[name]:
            raise EverlyticError(400, f"{name} must be one of: {', '.join(ENUMS[name])}.")
        if name == "country" and value and not (len(value) == 2 and value.isalpha()):
            raise EverlyticError(400, "country must be a two-character country code.")


def _to_xml(parent: ElementTree.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            _to_xml(ElementTree.SubElement(parent, str(name)), item)
    elif isinstance(value, list):
        for item in value:
            _to_xml(ElementTree.SubElement(parent, "item"), item)
    else:
        parent.text = "" if value is None else str(value)


def from_secret(secret: dict[str, Any]) -> EverlyticSimulator:
    """The simulator that accepts the credentials of this vendor's secret."""
    return EverlyticSimulator(
        secret["username"], secret["api_key"], xmlrpc_path=urlsplit(secret.get("xmlrpc_url", "/xmlrpc")).path
    )
