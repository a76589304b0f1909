"""A strict Exsalerate simulator: ``PUT``/``POST``/``GET api/Customer`` as the vendor documents them.

- HTTP Basic on every call; 401 ``{"Message": "Authorization has been denied for this request."}``.
- JSON, XML (DataContract namespace, elements in alphabetical order) and form-urlencoded bodies.
- ``CustomerName`` and ``AssignedToEmail`` required, max lengths enforced, integer fields typed;
  errors in ASP.NET Web API's shape: ``{"Message": ..., "ModelState": {"model.Field": [...]}}``.
- ``PUT`` is a full replace (an omitted property becomes empty) and an upsert: without a
  ``CustomerId`` it creates a new record, even when one with the same ``RefCode`` exists
  (which is how a client that loses track of an id makes duplicates).

The PUT's reply body is not documented (the page shows only an ``HttpResponseMessage``),
so its shape is an option, ``put_reply`` (a constructor argument and an attribute; over
HTTP, ``POST /_sim/options {"put_reply": ...}``; ``/_sim/reset`` leaves it as it is):

- ``"record"`` (the default): 200 with the whole stored record as JSON;
- ``"id"``: 200 with the bare ``CustomerId`` as a JSON number;
- ``"empty"``: 200 with no body at all.

The default is ``"record"`` because it is one of the shapes the vendor notes list and what
this simulator has always answered: the demo and the sync API, which hands back the
vendor's reply, keep showing the record. It is no promise that the vendor sends one; tests
that matter to a client's handling of the reply choose each shape explicitly.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from devkit.simulators.base import Simulator

DATACONTRACT_NS = "http://schemas.datacontract.org/2004/07/ExsalerateWebAPI.Models"
INTEGER_FIELDS = ("SiteOwnerId", "YourID", "CustomerId")
MAX_LENGTHS = {
    "AssignedToEmail": 150,
    "CustomerName": 255,
    "CompanyPhone": 20,
    "CompanyMobile": 20,
    "CompanyEmail": 150,
    "LeadStatus": 150,
    "RefCode": 200,
    "Region": 150,
    "Rank": 150,
    "IndustryType": 150,
    "Notes": 4000,
}
REQUIRED = ("AssignedToEmail", "CustomerName")
ALL_FIELDS = tuple(sorted((*INTEGER_FIELDS, *MAX_LENGTHS)))
JSON_TYPES = ("application/json", "text/json")
XML_TYPES = ("application/xml", "text/xml")
FORM_TYPE = "application/x-www-form-urlencoded"
PutReply = Literal["record", "id", "empty"]
PUT_REPLIES: tuple[str, ...] = get_args(PutReply)


class BadBody(Exception):
    def __init__(self, model_state: dict[str, list[str]]) -> None:
        super().__init__("The request is invalid.")
        self.model_state = model_state


class UnsupportedMediaType(Exception):
    """ASP.NET Web API answers 415 when no formatter reads the body's media type."""


class ExsalerateSimulator(Simulator):
    name = "exsalerate"
    status_values = {"active": "Active", "inactive": "Inactive"}

    def __init__(
        self,
        username: str = "sync-user",
        password: str = "sync-pass",
        site_owner_id: int = 1,
        put_reply: PutReply = "record",
    ) -> None:
        self.username = username
        self.password = password
        self.site_owner_id = site_owner_id
        self.put_reply: PutReply = put_reply
        self._next_id = 1000
        super().__init__()

    def rules(self) -> list[Rule]:
        return [
            Rule("/api/Customer", endpoint="put_customer", methods=["PUT"]),
            Rule("/api/Customer", endpoint="post_customer", methods=["POST"]),
            Rule("/api/Customer", endpoint="get_customer", methods=["GET"]),
        ]

    def error_response(self, status: int, message: str, *, request: Request | None = None) -> Response:
        return Response(json.dumps({"Message": message}), status=status, mimetype="application/json")

    def _control(self, request: Request) -> Response:
        """The base control endpoints, and ``POST /_sim/options`` for ``put_reply``."""
        if request.path != "/_sim/options":
            return super()._control(request)
        if request.method != "POST":
            return self.error_response(405, f"/_sim/options does not support http method '{request.method}'.")
        try:
            options = json.loads(request.get_data() or b"{}")
        except json.JSONDecodeError:
            options = None
        reply = options.get("put_reply") if isinstance(options, dict) else None
        if reply not in PUT_REPLIES:
            return self.error_response(400, f"put_reply must be one of {', '.join(PUT_REPLIES)}.")
        self.put_reply = reply
        return Response(json.dumps({"put_reply": reply}), status=200, mimetype="application/json")

    # -- endpoints ---------------------------------------------------------------------------
    def put_customer(self, request: Request) -> Response:
        model = self._accepted_model(request)
        if isinstance(model, Response):
            return model
        model["CustomerId"] = model.get("CustomerId") or self._new_id()
        self.records[str(model["CustomerId"])] = model
        if self.put_reply == "id":
            return Response(json.dumps(model["CustomerId"]), status=200, mimetype="application/json")
        if self.put_reply == "empty":
            empty = Response(status=200)
            del empty.headers["Content-Type"]  # as Web API sends an HttpResponseMessage without content
            return empty
        return Response(json.dumps(model), status=200, mimetype="application/json")

    def post_customer(self, request: Request) -> Response:
        model = self._accepted_model(request)
        if isinstance(model, Response):
            return model
        model["CustomerId"] = self._new_id()
        self.records[str(model["CustomerId"])] = model
        return Response(json.dumps(model["CustomerId"]), status=201, mimetype="application/json")

    def get_customer(self, request: Request) -> Response:
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        site_owner = request.args.get("siteOwnerId", "")
        ref_code = request.args.get("refCode", "")
        if not site_owner.isdigit() or not ref_code:
            return _invalid({"siteOwnerId": ["siteOwnerId and refCode are required."]})
        for record in self.records.values():
            if record.get("RefCode") == ref_code and record.get("SiteOwnerId") == int(site_owner):
                return Response(json.dumps(record), status=200, mimetype="application/json")
        return self.error_response(404, f"No customer with refCode '{ref_code}'.")

    # -- rules -------------------------------------------------------------------------------
    def _accepted_model(self, request: Request) -> dict[str, Any] | Response:
        """The full-replace model a PUT or POST carries, or the vendor's refusal."""
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        try:
            return self._validated(_parse_body(request))
        except BadBody as exc:
            return _invalid(exc.model_state)
        except UnsupportedMediaType as exc:
            media_type = exc.args[0]
            message = f"The request entity's media type '{media_type}' is not supported for this resource."
            return self.error_response(415, message)

    def _check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if header != f"Basic {expected}":
            return self.error_response(401, "Authorization has been denied for this request.")
        return None

    def _validated(self, body: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        model: dict[str, Any] = dict.fromkeys(ALL_FIELDS)  # full replace: omitted -> empty
        for name in ALL_FIELDS:
            value = body.get(name)
            if value is None or value == "":
                continue
            if name in INTEGER_FIELDS:
                if isinstance(value, bool) or not str(value).lstrip("-").isdigit():
                    errors[f"model.{name}"] = [f"Could not convert '{value}' to Int32."]
                    continue
                model[name] = int(value)
            else:
                if not isinstance(value, str):
                    errors[f"model.{name}"] = [f"Error converting value {value!r} to type 'System.String'."]
                    continue
                limit = MAX_LENGTHS[name]
                if len(value.encode("utf-16-le")) // 2 > limit:  # .NET counts UTF-16 units
                    errors[f"model.{name}"] = [
                        f"The field {name} must be a string or array type with a maximum length of '{limit}'."
                    ]
                model[name] = value
        for name in REQUIRED:
            if not model.get(name):
                errors.setdefault(f"model.{name}", []).append(f"The {name} field is required.")
        if errors:
            raise BadBody(errors)
        return model

    def _new_id(self) -> int:
        self._next_id += 1
        while str(self._next_id) in self.records:  # seeded, or upserted under a caller's id
            self._next_id += 1
        return self._next_id


def _invalid(model_state: dict[str, list[str]]) -> Response:
    body = {"Message": "The request is invalid.", "ModelState": model_state}
    return Response(json.dumps(body), status=400, mimetype="application/json")


def _parse_body(request: Request) -> dict[str, Any]:
    content_type = (request.mimetype or "").lower()
    raw = request.get_data()
    if content_type in JSON_TYPES:
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError as exc:
            raise BadBody({"model": [f"Invalid JSON: {exc.msg}"]}) from exc
        if not isinstance(body, dict):
            raise BadBody({"model": ["A CustomerModel object is required."]})
        return body
    if content_type in XML_TYPES:
        return _parse_xml(raw)
    if content_type == FORM_TYPE:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    raise UnsupportedMediaType(content_type)


def _parse_xml(raw: bytes) -> dict[str, Any]:
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise BadBody({"model": [f"Invalid XML: {exc}"]}) from exc
    if root.tag != f"{{{DATACONTRACT_NS}}}CustomerModel":
        raise BadBody({"model": [f"Expecting element 'CustomerModel' from namespace '{DATACONTRACT_NS}'."]})
    names: list[str] = []
    body: dict[str, Any] = {}
    for child in root:
        if not child.tag.startswith(f"{{{DATACONTRACT_NS}}}"):
            raise BadBody({"model": [f"Element {child.tag} is not in namespace '{DATACONTRACT_NS}'."]})
        name = child.tag.split("}", 1)[1]
        names.append(name)
        nil = child.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
        body[name] = None if nil else (child.text or "")
    if names != sorted(names):
        raise BadBody({"model": ["DataContract elements must be in alphabetical order."]})
    return body


def from_secret(secret: dict[str, Any]) -> ExsalerateSimulator:
    """The simulator that accepts the credentials of this vendor's secret."""
    return ExsalerateSimulator(secret["username"], secret["password"], int(secret.get("site_owner_id", 1)))
