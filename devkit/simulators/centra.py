"""A strict Centra simulator: SOAP ``customers_Update`` (update/insert an array of customers).

- ``POST {path}`` with ``SOAPAction: "http://www.centra.com/webservices/Customers_Update"``,
  the envelope validated against the shipped WSDL's schema, ``login`` in the body.
  ``GET {path}?wsdl`` serves the WSDL.
- Every customer is checked before any is applied: ``id`` required (max 64),
  ``store`` a known store, names/city/state max 64, address lines max 255,
  zipcode max 16, country two letters, email with an @ (max 255), telephone max 32.
  One bad customer fails the whole call with a ``soap:Client`` Fault naming its id
  and field; nothing is applied.
- Success upserts by ``id`` (only the fields sent change) and answers the page's
  empty ``<ns1:result/>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from devkit.simulators.base import Fault, Simulator
from devkit.simulators.soap import SoapContract, SoapFault, fault_response

WSDL = Path(__file__).resolve().parents[2] / "functions" / "centra" / "centra.wsdl"
NS = "http://www.centra.com/webservices/"
ACTION = "http://www.centra.com/webservices/Customers_Update"
DEFAULT_PATH = "/ams/system/service/module/soap/api"
MAX_LENGTHS = {
    "id": 64, "type": 64, "status": 64, "firstname": 64, "lastname": 64, "address1": 255, "address2": 255,
    "city": 64, "state": 64, "zipcode": 16, "country": 2, "email": 255, "telephone": 32,
}  # fmt: skip
SUCCESS = (
    '<?xml version="1.0"?>\n'
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:ns1="http://www.centra.com/webservices/">\n'
    "  <SOAP-ENV:Body>\n    <ns1:result/>\n  </SOAP-ENV:Body>\n</SOAP-ENV:Envelope>"
)


class InvalidCustomer(Exception):
    pass


class CentraSimulator(Simulator):
    name = "centra"

    def __init__(
        self, username: str = "demo", password: str = "demo", stores: tuple[int, ...] = (1,), path: str = DEFAULT_PATH
    ) -> None:
        self.username = username
        self.password = password
        self.stores = stores
        self.path = path
        self.contract = SoapContract(WSDL)
        super().__init__()

    def rules(self) -> list[Rule]:
        return [Rule(self.path, endpoint="soap_api", methods=["POST", "GET"])]

    def error_response(self, status: int, message: str, *, request: Request | None = None) -> Response:
        return fault_response("Client" if status < 500 else "Server", message)

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.kind == "soap_fault":
            return fault_response(fault.code, fault.message)
        return super().fault_response(fault, request)

    def soap_api(self, request: Request) -> Response:
        if request.method == "GET" and "wsdl" in request.args:
            return Response(WSDL.read_bytes(), content_type="text/xml; charset=utf-8")
        try:
            soap = self.contract.read(request, {ACTION: "customers_Update"})
            self._check_login(soap.body)
            customers = [
                self._customer(element) for element in soap.body.iterfind(f"{{{NS}}}customers/{{{NS}}}customer")
            ]
        except SoapFault as fault:
            return fault_response(fault.side, fault.message)
        except InvalidCustomer as exc:
            return fault_response("Client", str(exc))
        for customer in customers:
            self.records.setdefault(customer["id"], {}).update(customer)
        return Response(SUCCESS, status=200, content_type="text/xml; charset=utf-8")

    def _check_login(self, body: etree._Element) -> None:
        login = body.find(f"{{{NS}}}login")
        sent = (
            (self.contract.child_text(login, "username"), self.contract.child_text(login, "password"))
            if login is not None
            else None
        )
        if sent != (self.username, self.password):
            raise SoapFault("Client", "Login failed: wrong username or password.")

    def _customer(self, element: etree._Element) -> dict[str, Any]:
        fields = {etree.QName(child).localname: child.text or "" for child in element}
        customer_id = fields.get("id", "")
        if not customer_id:
            raise InvalidCustomer("Customer without id: every customer needs an id.")
        for name, limit in MAX_LENGTHS.items():
            if len(fields.get(name, "")) > limit:
                raise InvalidCustomer(f"Customer {customer_id}: {name} is longer than {limit} characters.")
        if "store" in fields and int(fields["store"]) not in self.stores:
            raise InvalidCustomer(f"Customer {customer_id}: store {fields['store']} does not exist.")
        country = fields.get("country", "")
        if country and not (len(country) == 2 and country.isalpha()):
            raise InvalidCustomer(f"Customer {customer_id}: country must be a two-letter code.")
        email = fields.get("email", "")
        if email and "@" not in email:
            raise InvalidCustomer(f"Customer {customer_id}: email is not an email address.")
        result: dict[str, Any] = {**fields, "id": customer_id}
        if "store" in fields:
            result["store"] = int(fields["store"])
        return result
