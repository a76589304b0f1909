"""A strict Exigo simulator: ``UpdateCustomer`` and ``UpdateCustomerExtended`` over REST and SOAP.

- REST: ``PATCH /3.0/customers`` and ``PATCH /3.0/customers/extended``, Basic
  ``login@company:password``, camelCase JSON; ``200 {"result": null}``; errors
  ``{"message": ...}`` (401 credentials, 400 validation, 404 unknown customer).
- SOAP 1.1: ``POST /3.0/ExigoApi.asmx``; SOAPAction must name the body's
  operation; the envelope is validated against the shipped WSDL's schema; the
  ``ApiAuthentication`` header must carry the right LoginName/Password/Company.
  Caller errors are ``soap:Client`` Faults, HTTP 500, as .asmx services answer.
- Both: ``CustomerID`` and ``CustomerKey`` are exclusive (one is required). An
  unknown ``CustomerID`` is an error ("Customer not found"); an unknown
  ``CustomerKey`` creates the customer under that key (so a connector can sync
  customers it has no Exigo id for yet). Only the fields sent change (PATCH).
- ``fail_next`` holds error lists: each is answered once as ``Status=Failure``
  with those ``Errors`` inside an HTTP 200 (SOAP), as real results can be.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from devkit.simulators.base import Fault, Simulator
from devkit.simulators.soap import SoapContract, SoapFault, envelope, fault_response

WSDL = Path(__file__).resolve().parents[2] / "functions" / "exigo" / "exigo.wsdl"
NS = "http://api.exigo.com/"
ACTIONS = {
    "https://api.exigo.com/UpdateCustomer": "UpdateCustomerRequest",
    "https://api.exigo.com/UpdateCustomerExtended": "UpdateCustomerExtendedRequest",
}
BASE_STRINGS = (
    "FirstName", "LastName", "MiddleName", "Company", "Email", "Phone", "Phone2", "MobilePhone", "Fax",
    *(f"{kind}{part}" for kind in ("Main", "Mail", "Other")
      for part in ("Address1", "Address2", "Address3", "City", "State", "Zip", "Country", "County")),
    *(f"Field{n}" for n in range(1, 16)),
)  # fmt: skip
BASE_INTEGERS = ("CustomerType", "CustomerStatus", "LanguageID")
BASE_OTHER = (*(f"Date{n}" for n in range(1, 6)), "BirthDate", "SubscribeToBroadcasts")
EXTENDED_FIELDS = tuple(f"Field{n}" for n in range(1, 31))
IDENTITY = ("CustomerID", "CustomerKey")


class ExigoError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ExigoSimulator(Simulator):
    name = "exigo"

    def __init__(self, login_name: str = "sync", password: str = "sync-pass", company: str = "acme") -> None:
        self.login_name = login_name
        self.password = password
        self.company = company
        self.contract = SoapContract(WSDL)
        self.fail_next: list[list[str]] = []
        self._next_id = 500
        super().__init__()

    def rules(self) -> list[Rule]:
        return [
            Rule("/3.0/customers", endpoint="rest_update_customer", methods=["PATCH"]),
            Rule("/3.0/customers/extended", endpoint="rest_update_extended", methods=["PATCH"]),
            Rule("/3.0/ExigoApi.asmx", endpoint="soap", methods=["POST", "GET"]),
        ]

    def error_response(self, status: int, message: str, *, request: Request | None = None) -> Response:
        if request is not None and request.path.endswith(".asmx"):
            return fault_response("Client" if status < 500 else "Server", message)
        return Response(json.dumps({"message": message}), status=status, mimetype="application/json")

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.kind == "soap_fault":
            return fault_response(fault.code, fault.message)
        return super().fault_response(fault, request)

    # -- REST --------------------------------------------------------------------------------
    def rest_update_customer(self, request: Request) -> Response:
        return self._rest(request, self.update_customer, (*IDENTITY, *BASE_STRINGS, *BASE_INTEGERS, *BASE_OTHER))

    def rest_update_extended(self, request: Request) -> Response:
        allowed = (*IDENTITY, "ExtendedGroupID", "CustomerExtendedID", *EXTENDED_FIELDS)
        return self._rest(request, self.update_extended, allowed)

    def _rest(self, request: Request, apply: Any, allowed: tuple[str, ...]) -> Response:
        expected = base64.b64encode(f"{self.login_name}@{self.company}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return self.error_response(401, "Invalid login credentials.")
        if (request.mimetype or "") != "application/json":
            return self.error_response(415, "Content-Type must be application/json.")
        try:
            body = json.loads(request.get_data() or b"null")
        except json.JSONDecodeError:
            return self.error_response(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return self.error_response(400, "The request body must be a JSON object.")
        by_camel = {name[:1].lower() + name[1:]: name for name in allowed}
        unknown = sorted(set(body) - set(by_camel))
        if unknown:
            return self.error_response(400, f"Unknown properties: {', '.join(unknown)}.")
        try:
            apply({by_camel[key]: value for key, value in body.items()})
        except ExigoError as exc:
            return self.error_response(exc.status, exc.message)
        return Response(json.dumps({"result": None}), status=200, mimetype="application/json")

    # -- SOAP --------------------------------------------------------------------------------
    def soap(self, request: Request) -> Response:
        try:
            soap = self.contract.read(request, ACTIONS)
            self._check_soap_auth(soap.header)
            fields = {etree.QName(child).localname: child.text or "" for child in soap.body}
            operation = ACTIONS[soap.action].removesuffix("Request")
            (self.update_customer if operation == "UpdateCustomer" else self.update_extended)(fields)
        except SoapFault as fault:
            return fault_response(fault.side, fault.message)
        except ExigoError as exc:
            return fault_response("Client", exc.message)
        result = f"{operation}Result"
        if self.fail_next:
            errors = "".join(f"<string>{escape(e)}</string>" for e in self.fail_next.pop(0))
            return envelope(f'<{result} xmlns="{NS}"><Status>Failure</Status><Errors>{errors}</Errors></{result}>')
        return envelope(f'<{result} xmlns="{NS}" />')

    def _check_soap_auth(self, header: etree._Element | None) -> None:
        auth = header.find(f"{{{NS}}}ApiAuthentication") if header is not None else None
        if auth is None:
            raise SoapFault("Client", "The ApiAuthentication SOAP header is required.")
        self.contract.validate(auth)
        sent = tuple(self.contract.child_text(auth, name) for name in ("LoginName", "Password", "Company"))
        if sent != (self.login_name, self.password, self.company):
            raise SoapFault("Client", "Invalid login credentials.")

    # -- the vendor's rules, shared by both transports ---------------------------------------
    def update_customer(self, fields: dict[str, Any]) -> None:
        record = self._customer(fields)
        for name, value in fields.items():
            if name in IDENTITY:
                continue
            if name in BASE_INTEGERS:
                record[name] = _integer(name, value)
            elif name in BASE_STRINGS or name in BASE_OTHER:
                record[name] = value
            else:
                raise ExigoError(f"Unknown property {name}.")

    def update_extended(self, fields: dict[str, Any]) -> None:
        group = _integer("ExtendedGroupID", fields.get("ExtendedGroupID"))
        entry = _integer("CustomerExtendedID", fields.get("CustomerExtendedID"))
        record = self._customer(fields)
        extended = record.setdefault("extended", {}).setdefault(f"{group}/{entry}", {})
        for name, value in fields.items():
            if name in EXTENDED_FIELDS:
                extended[name] = value

    def _customer(self, fields: dict[str, Any]) -> dict[str, Any]:
        customer_id, customer_key = fields.get("CustomerID"), fields.get("CustomerKey")
        if customer_id not in (None, "") and customer_key not in (None, ""):
            raise ExigoError("CustomerID and CustomerKey cannot both be provided.")
        if customer_id not in (None, ""):
            record = self.records.get(str(_integer("CustomerID", customer_id)))
            if record is None:
                raise ExigoError(f"Customer {customer_id} not found.", status=404)
            return record
        if customer_key in (None, ""):
            raise ExigoError("CustomerID or CustomerKey is required.")
        for record in self.records.values():
            if record["CustomerKey"] == customer_key:
                return record
        self._next_id += 1
        record = {"CustomerID": self._next_id, "CustomerKey": str(customer_key)}
        self.records[str(self._next_id)] = record
        return record


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ExigoError(f"{name} must be an integer.")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ExigoError(f"{name} must be an integer.") from exc
