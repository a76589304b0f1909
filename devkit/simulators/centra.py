"""A strict Centra simulator: SOAP ``customers_Update`` (update/insert an array of customers).

- ``POST {path}`` (default ``/ams/system/service/module/soap/api``) with
  Content-Type ``text/xml`` and ``SOAPAction:
  "http://www.centra.com/webservices/Customers_Update"``; the envelope is
  validated against the XSD inside ``functions/centra/centra.wsdl``; ``login``
  (in the body) must match. ``GET {path}?wsdl`` serves that WSDL.
- Every customer is checked before any is applied (Centra publishes no limits;
  these are the simulator's): ``id`` required, max 64; ``store`` one of
  ``stores``, and required when the id is new (an insert needs a store);
  type/status/firstname/lastname/city/state max 64; address1/address2 max 255;
  zipcode max 16; country a two-letter code; email ``local@domain.tld``, max 255;
  telephone max 32. The first bad customer fails the whole call, nothing is
  applied, and the ``soap:Client`` Fault's faultstring names it:
  ``Customer C-4: firstname is longer than 64 characters.``
- Success upserts every customer by ``id`` (only the elements sent change) and
  answers exactly the page's empty ``<ns1:result/>`` envelope.
- Faults are SOAP 1.1 Faults with HTTP 500 (``soap:Client`` for the caller's
  errors). An injected ``soap_fault`` answers ``soap:{code}``; an injected
  ``status`` other than 500 is the plain page of the web server in front, not
  a Fault, so clients see an HTTP error with its ``Retry-After``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from devkit.simulators.base import Fault, Simulator
from devkit.simulators.soap import SOAP_ENV, SoapContract, SoapFault, envelope

WSDL = Path(__file__).resolve().parents[2] / "functions" / "centra" / "centra.wsdl"
NS = "http://www.centra.com/webservices/"
ACTION = "http://www.centra.com/webservices/Customers_Update"
DEFAULT_PATH = "/ams/system/service/module/soap/api"
MAX_LENGTHS = {
    "id": 64, "type": 64, "status": 64, "firstname": 64, "lastname": 64, "address1": 255, "address2": 255,
    "city": 64, "state": 64, "zipcode": 16, "country": 2, "email": 255, "telephone": 32,
}  # fmt: skip
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COUNTRY = re.compile(r"[A-Za-z]{2}")
SUCCESS = (
    '<?xml version="1.0"?>\n'
    f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{NS}">\n'
    "  <SOAP-ENV:Body>\n    <ns1:result/>\n  </SOAP-ENV:Body>\n</SOAP-ENV:Envelope>"
)
# What Centra's newer docs show instead of the empty result.
SUCCESS_NEWER = SUCCESS.replace("<ns1:result/>", "<ns1:customersUpdateResponse>OK</ns1:customersUpdateResponse>")


class InvalidCustomer(Exception):
    """One customer of the batch breaks a rule; the whole call is refused."""


class CentraSimulator(Simulator):
    """Centra's ``customers_Update``: all-or-nothing validation, then an upsert by ``id``."""

    name = "centra"
    status_values = {"active": "active", "inactive": "inactive"}

    def __init__(
        self,
        username: str = "demo",
        password: str = "demo",
        stores: tuple[int, ...] = (1,),
        path: str = DEFAULT_PATH,
        newer_success: bool = False,
    ) -> None:
        self.username = username
        self.success = SUCCESS_NEWER if newer_success else SUCCESS
        self.password = password
        self.stores = tuple(stores)
        self.path = path
        self.contract = SoapContract(WSDL)
        super().__init__()

    def rules(self) -> list[Rule]:
        return [Rule(self.path, endpoint="soap_api", methods=["POST", "GET"])]

    def error_response(self, status: int, message: str, *, request: Request | None = None) -> Response:
        return _soap_fault("Client" if status < 500 else "Server", message, status)

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.kind == "soap_fault":
            return _soap_fault(fault.code, fault.message)
        if fault.status != 500:
            # 503 / 429 come from the web server in front of the SOAP endpoint, not as a Fault.
            response = Response(f"{fault.status} {fault.message}", status=fault.status, mimetype="text/plain")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        return super().fault_response(fault, request)

    def soap_api(self, request: Request) -> Response:
        if request.method == "GET" and "wsdl" in request.args:
            return Response(WSDL.read_bytes(), content_type="text/xml; charset=utf-8")
        try:
            soap = self.contract.read(request, {ACTION: "customers_Update"})
            self._check_login(soap.body)
            customers: list[dict[str, Any]] = []
            for position, element in enumerate(soap.body.iterfind(f"{{{NS}}}customers/{{{NS}}}customer"), start=1):
                known = self.records.keys() | {c["id"] for c in customers}
                customers.append(self._customer(position, element, known))
        except SoapFault as fault:
            return _soap_fault(fault.side, fault.message)
        except InvalidCustomer as exc:
            return _soap_fault("Client", str(exc))
        for customer in customers:
            self.records.setdefault(customer["id"], {}).update(customer)
        response = Response(self.success, status=200, content_type="text/xml; charset=utf-8")
        response.headers["X-Centra-Request-ID"] = f"1_{uuid.uuid4().hex}"
        return response

    def _check_login(self, body: etree._Element) -> None:
        login = body.find(f"{{{NS}}}login")
        sent = (
            (self.contract.child_text(login, "username"), self.contract.child_text(login, "password"))
            if login is not None
            else None
        )
        if sent != (self.username, self.password):
            raise SoapFault("Client", "Login failed: wrong username or password.")

    def _customer(self, position: int, element: etree._Element, known: set[str]) -> dict[str, Any]:
        """The customer at ``position`` (1-based) as stored, or ``InvalidCustomer`` naming its id and field."""
        fields = {etree.QName(child).localname: child.text or "" for child in element}
        customer_id = fields.get("id", "").strip()
        if not customer_id:
            raise InvalidCustomer(f"Customer #{position}: id is required.")
        who = f"Customer {customer_id}"
        for name, limit in MAX_LENGTHS.items():
            if len(fields.get(name, "")) > limit:
                raise InvalidCustomer(f"{who}: {name} is longer than {limit} characters.")
        if "store" in fields:
            store = int(fields["store"])  # the XSD made sure it is an int
            if store not in self.stores:
                raise InvalidCustomer(f"{who}: store {store} does not exist.")
        elif customer_id not in known:
            raise InvalidCustomer(f"{who}: store is required to insert a customer.")
        country = fields.get("country", "")
        if country and not COUNTRY.fullmatch(country):
            raise InvalidCustomer(f"{who}: country must be a two-letter code.")
        email = fields.get("email", "")
        if email and not EMAIL.fullmatch(email):
            raise InvalidCustomer(f"{who}: email is not an email address.")
        customer: dict[str, Any] = {**fields, "id": customer_id}
        if "store" in fields:
            customer["store"] = int(fields["store"])
        return customer


def _soap_fault(side: str, message: str, status: int = 500) -> Response:
    return envelope(
        f"<soap:Fault><faultcode>soap:{escape(side)}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault>",
        status=status,
    )


def from_secret(secret: dict[str, Any]) -> CentraSimulator:
    """The simulator that accepts the credentials of this vendor's secret."""
    return CentraSimulator(
        secret["username"],
        secret["password"],
        stores=(int(secret.get("store", 1)),),
        path=urlsplit(secret["base_url"]).path,
    )
