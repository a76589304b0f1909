"""A strict Exigo simulator: ``UpdateCustomer`` and ``UpdateCustomerExtended`` over REST and SOAP.

- REST: ``PATCH /3.0/customers`` and ``PATCH /3.0/customers/extended``, Basic
  ``login@company:password``, camelCase JSON (only camelCase: ``customerID``,
  ``firstName``, ``extendedGroupID``, ``field1``..). ``200 {"result": null}``.
  Errors are ``{"message": ...}``: 401 bad credentials, 415 not JSON, 400 for
  validation (unknown property, wrong JSON type, both or neither of
  CustomerID/CustomerKey), 404 for an unknown CustomerID. A JSON ``null``
  counts as not sent.
- SOAP 1.1: ``POST /3.0/ExigoApi.asmx`` (``GET ?WSDL`` serves the shipped WSDL).
  Content-Type ``text/xml``; SOAPAction one of the two actions and naming the
  body's element; the body and the ``ApiAuthentication`` header validated
  against the XSD inside ``functions/exigo/exigo.wsdl``; LoginName, Password
  and Company must match. Caller errors are ``soap:Client`` Faults with HTTP 500,
  as .asmx services answer. Success is the page's empty ``<...Result/>``. As ASMX:
  ``soap:mustUnderstand`` on ``ApiAuthentication`` is fine (the service knows that
  header), any other header with ``mustUnderstand`` 1 or true is a ``soap:MustUnderstand``
  Fault without detail, comments and processing instructions are skipped, and a DTD
  is refused (``soap:Client``).
- Both transports share the rules. ``CustomerID`` and ``CustomerKey`` are
  exclusive, one is required. Nothing is pre-seeded: an unknown ``CustomerID``
  is a "Customer N not found." error (REST 404 / Client fault); an unknown
  ``CustomerKey`` creates the customer under that key with the next id (from
  501), so a connector can sync customers it has no Exigo id for yet.
  ``UpdateCustomerExtended`` needs ``ExtendedGroupID`` and ``CustomerExtendedID``;
  its record lives at ``records[id]["extended"]["<group>/<entry>"]``. Only the
  fields sent change (PATCH). Exigo publishes no max lengths, so none are checked.
- Faults: an injected ``soap_fault`` answers ``soap:{code}`` (HTTP 500) on the
  .asmx, ``{"message"}`` (500 Server / 400 Client) on REST. ``code="Failure"``
  (also over ``POST /_sim/faults``) or an entry in ``fail_next`` (a list of error
  strings) makes the next valid call answer HTTP 200 with ``Status=Failure`` and
  those ``Errors`` (REST: ``{"result": null, "message": ...}``) and apply nothing.
  An injected ``status`` other than 500 on the .asmx comes back as the plain
  text page IIS would send, so clients see an HTTP error, not a Fault.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from devkit.simulators.base import Fault, Simulator
from devkit.simulators.soap import SOAP_ENV, SoapContract, SoapFault, envelope

WSDL = Path(__file__).resolve().parents[2] / "functions" / "exigo" / "exigo.wsdl"
NS = "http://api.exigo.com/"
SOAP_PATH = "/3.0/ExigoApi.asmx"
UPDATE_CUSTOMER = "UpdateCustomer"
UPDATE_EXTENDED = "UpdateCustomerExtended"
ACTIONS = {
    "https://api.exigo.com/UpdateCustomer": "UpdateCustomerRequest",
    "https://api.exigo.com/UpdateCustomerExtended": "UpdateCustomerExtendedRequest",
}
FieldType = Literal["int", "string", "dateTime", "boolean"]
ADDRESS_PARTS = ("Address1", "Address2", "Address3", "City", "State", "Zip", "Country", "County")
IDENTITY = ("CustomerID", "CustomerKey")
# Every property of each request, in the WSDL's order, with its XSD type.
BASE_FIELDS: dict[str, FieldType] = {
    "CustomerID": "int", "CustomerKey": "string", "FirstName": "string", "LastName": "string",
    "MiddleName": "string", "Company": "string", "CustomerType": "int", "CustomerStatus": "int",
    "Email": "string", "Phone": "string", "Phone2": "string", "MobilePhone": "string", "Fax": "string",
    **{f"{kind}{part}": "string" for kind in ("Main", "Mail", "Other") for part in ADDRESS_PARTS},
    **{f"Field{n}": "string" for n in range(1, 16)},
    **{f"Date{n}": "dateTime" for n in range(1, 6)},
    "BirthDate": "dateTime", "LanguageID": "int", "SubscribeToBroadcasts": "boolean",
}  # fmt: skip
EXTENDED_FIELDS: dict[str, FieldType] = {
    "CustomerID": "int",
    "ExtendedGroupID": "int",
    "CustomerExtendedID": "int",
    **{f"Field{n}": "string" for n in range(1, 31)},
    "CustomerKey": "string",
}
FIELDS = {UPDATE_CUSTOMER: BASE_FIELDS, UPDATE_EXTENDED: EXTENDED_FIELDS}
JSON_TYPES: dict[FieldType, str] = {"int": "integer", "string": "string", "dateTime": "date", "boolean": "boolean"}
AUTH_HEADER = f"{{{NS}}}ApiAuthentication"
MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"
FAILURE_KEY = "exigo.sim.failure"  # request.environ slot for an injected Failure


class ExigoError(Exception):
    """A caller error: 400 ``{"message"}`` on REST, a ``soap:Client`` Fault on SOAP."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def camel(name: str) -> str:
    """Exigo's REST property names: ``CustomerID`` -> ``customerID``."""
    return name[:1].lower() + name[1:]


class ExigoSimulator(Simulator):
    """Exigo's customer update calls, over REST and SOAP, with one shared customer store."""

    name = "exigo"
    status_values = {"active": 1, "inactive": 2}

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
            Rule(SOAP_PATH, endpoint="soap", methods=["POST", "GET"]),
        ]

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.fail_next.clear()
            self._next_id = 500

    # -- error shapes --------------------------------------------------------------------------
    def error_response(self, status: int, message: str, *, request: Request | None = None) -> Response:
        if request is not None and _is_soap(request):
            return _soap_fault("Client" if status < 500 else "Server", message, status)
        return _json({"message": message}, status)

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.kind == "soap_fault" and fault.code == "Failure":
            # Validate and authenticate as usual, then answer Failure instead of applying.
            request.environ[FAILURE_KEY] = [fault.message]
            return self._route(request)
        if fault.kind == "soap_fault":
            if _is_soap(request):
                return _soap_fault(fault.code, fault.message)
            return _json({"message": fault.message}, 400 if fault.code == "Client" else 500)
        if _is_soap(request) and fault.status != 500:
            # A 503 or 429 comes from IIS / the load balancer in front of the service, not from a Fault.
            response = Response(
                f"HTTP Error {fault.status}. {fault.message}", status=fault.status, mimetype="text/plain"
            )
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        return super().fault_response(fault, request)

    def _failure(self, request: Request) -> list[str] | None:
        injected: list[str] | None = request.environ.pop(FAILURE_KEY, None)
        if injected is not None:
            return injected
        return self.fail_next.pop(0) if self.fail_next else None

    # -- REST ----------------------------------------------------------------------------------
    def rest_update_customer(self, request: Request) -> Response:
        return self._rest(request, UPDATE_CUSTOMER)

    def rest_update_extended(self, request: Request) -> Response:
        return self._rest(request, UPDATE_EXTENDED)

    def _rest(self, request: Request, operation: str) -> Response:
        expected = base64.b64encode(f"{self.login_name}@{self.company}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return self.error_response(401, "Authorization has been denied for this request.")
        if (request.mimetype or "") != "application/json":
            return self.error_response(415, f"Content-Type must be application/json, not {request.mimetype!r}.")
        try:
            body = json.loads(request.get_data() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self.error_response(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return self.error_response(400, "The request body must be a JSON object.")
        types = FIELDS[operation]
        by_camel = {camel(name): name for name in types}
        unknown = sorted(set(body) - set(by_camel))
        if unknown:
            return self.error_response(400, f"Unknown properties: {', '.join(unknown)}.")
        try:
            fields = {
                by_camel[key]: _from_json(key, types[by_camel[key]], value)
                for key, value in body.items()
                if value is not None
            }
            failure = self._apply(operation, fields, request)
        except ExigoError as exc:
            return self.error_response(exc.status, exc.message)
        if failure is not None:
            return _json({"result": None, "message": "; ".join(failure)}, 200)
        return _json({"result": None}, 200)

    # -- SOAP ----------------------------------------------------------------------------------
    def soap(self, request: Request) -> Response:
        if request.method == "GET" and any(key.lower() == "wsdl" for key in request.args):
            return Response(WSDL.read_bytes(), content_type="text/xml; charset=utf-8")
        try:
            soap = self.contract.read(request, ACTIONS)
            self._check_soap_auth(soap.header)
            operation = ACTIONS[soap.action].removesuffix("Request")
            types = FIELDS[operation]
            names = [(etree.QName(child).localname, child.text or "") for child in soap.body]
            fields = {name: _from_xml(types[name], text) for name, text in names}
            failure = self._apply(operation, fields, request)
        except SoapFault as fault:
            return _soap_fault(fault.side, fault.message)
        except ExigoError as exc:
            return _soap_fault("Client", exc.message)
        result = f"{operation}Result"
        if failure is not None:
            errors = "".join(f"<string>{escape(error)}</string>" for error in failure)
            return envelope(f'<{result} xmlns="{NS}"><Status>Failure</Status><Errors>{errors}</Errors></{result}>')
        return envelope(f'<{result} xmlns="{NS}" />')

    def _check_soap_auth(self, header: etree._Element | None) -> None:
        """In ASMX's order: the headers are read, then the unknown ones must not demand understanding,
        and only then does the web method itself look at the credentials."""
        auth = header.find(AUTH_HEADER) if header is not None else None
        if auth is not None:
            self.contract.validate(auth)
            value = auth.get(MUST_UNDERSTAND, "0")
            if value not in ("0", "1", "false", "true"):
                raise SoapFault("Client", f"Invalid value for mustUnderstand: {value}.")
        for block in header if header is not None else ():
            # ASMX takes only 1 and true as "must understand" on a header it does not know.
            if block.tag != AUTH_HEADER and block.get(MUST_UNDERSTAND) in ("1", "true"):
                raise SoapFault("MustUnderstand", f"SOAP header {etree.QName(block).localname} was not understood.")
        if auth is None:
            raise SoapFault("Client", "The ApiAuthentication SOAP header is required.")
        sent = tuple(self.contract.child_text(auth, name) for name in ("LoginName", "Password", "Company"))
        if sent != (self.login_name, self.password, self.company):
            raise SoapFault("Client", "Invalid login credentials.")

    # -- the vendor's rules, shared by both transports -------------------------------------------
    def _apply(self, operation: str, fields: dict[str, Any], request: Request) -> list[str] | None:
        """Check ``fields`` and apply them, unless a Failure is due: then answer it and change nothing."""
        if operation == UPDATE_EXTENDED and (
            fields.get("ExtendedGroupID") is None or fields.get("CustomerExtendedID") is None
        ):
            raise ExigoError("ExtendedGroupID and CustomerExtendedID are required.")
        self._customer(fields, create=False)
        failure = self._failure(request)  # taken only by a well-formed call
        if failure is None:
            (self.update_customer if operation == UPDATE_CUSTOMER else self.update_extended)(fields)
        return failure

    def update_customer(self, fields: dict[str, Any]) -> None:
        """``UpdateCustomer``: the sent base fields replace the stored ones."""
        record = self._customer(fields)
        record.update({name: value for name, value in fields.items() if name not in IDENTITY})

    def update_extended(self, fields: dict[str, Any]) -> None:
        """``UpdateCustomerExtended``: the sent Field1..Field30 of one (group, entry) record."""
        record = self._customer(fields)
        key = f"{fields['ExtendedGroupID']}/{fields['CustomerExtendedID']}"
        extended = record.setdefault("extended", {}).setdefault(key, {})
        extended.update({name: value for name, value in fields.items() if name.startswith("Field")})

    def _customer(self, fields: dict[str, Any], *, create: bool = True) -> dict[str, Any]:
        customer_id, customer_key = fields.get("CustomerID"), fields.get("CustomerKey")
        if customer_id is not None and customer_key is not None:
            raise ExigoError("CustomerID and CustomerKey cannot both be provided.")
        if customer_id is not None:
            record = self.records.get(str(customer_id))
            if record is None:
                raise ExigoError(f"Customer {customer_id} not found.", status=404)
            return record
        if not customer_key:
            raise ExigoError("CustomerID or CustomerKey is required.")
        for record in self.records.values():
            if record.get("CustomerKey") == customer_key:
                return record
        record = {"CustomerKey": customer_key}
        if create:
            self._next_id += 1
            while str(self._next_id) in self.records:
                self._next_id += 1
            record["CustomerID"] = self._next_id
            self.records[str(self._next_id)] = record
        return record


def _is_soap(request: Request) -> bool:
    return request.path.rstrip("/").lower() == SOAP_PATH.lower()


def _json(data: Any, status: int) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _soap_fault(side: str, message: str, status: int = 500) -> Response:
    detail = "" if side == "MustUnderstand" else "<detail />"  # ASMX sends no detail for a header's fault
    return envelope(
        f"<soap:Fault><faultcode>soap:{escape(side)}</faultcode><faultstring>{escape(message)}</faultstring>"
        f"{detail}</soap:Fault>",
        status=status,
    )


def _from_json(key: str, kind: FieldType, value: Any) -> Any:
    """A JSON value of property ``key`` as the simulator stores it, or a 400 naming the property."""
    valid = {
        "int": isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31,
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "dateTime": isinstance(value, str) and _is_datetime(value),
    }[kind]
    if not valid:
        raise ExigoError(f"The value {json.dumps(value)} of '{key}' is not a valid {JSON_TYPES[kind]}.")
    return value


def _from_xml(kind: FieldType, text: str) -> Any:
    """An element's text (already checked against the XSD) as the simulator stores it."""
    if kind == "int":
        return int(text)
    if kind == "boolean":
        return text.strip() in ("true", "1")
    return text if kind == "string" else text.strip()


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def from_secret(secret: dict[str, Any]) -> ExigoSimulator:
    """The simulator that accepts the credentials of this vendor's secret."""
    return ExigoSimulator(secret["login_name"], secret["password"], secret["company"])
