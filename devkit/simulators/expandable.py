"""A strict Expandable simulator: auth tokens and ``customer-contact-update``.

- Every route is ``POST`` with a JSON body; any other method is 405.
- ``POST /api/auth-token-get`` ``{DATA_SOURCE, USER_NAME, PASSWORD}`` -> ``{"AUTH_TOKEN"}``; tokens
  expire after ``token_ttl_seconds`` (on ``clock``) and ``revoke_tokens()`` (or the
  ``expire_tokens`` fault) invalidates all of them.
- ``POST /api/customer-contact-update``: 401 when the token is missing ("not provided"), not one
  this server could have issued ("malformed") or expired/revoked ("login failure"); 400 when the
  JSON is invalid, CUSTOMER_ID or CUST_CONTACT is missing, nothing but the keys is sent, a field
  is not in the documented Full Request JSON, a value is not a string, or NOTES is over 32,765
  characters; 400 "Customer Contact not found." for a contact that does not exist (create it
  with ``POST /api/customer-contact-create``, which refuses one that exists). Success merges the
  sent fields and returns the whole contact with the audit fields filled in.
- Errors are always ``{"MESSAGE", "MESSAGE_CODE"}``. Codes: E400 invalid request, E401 no
  token, E402 malformed token, E403 login failure, E404 contact not found, E405 method, E406 contact exists, E500.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from devkit.simulators.base import Simulator

TOKEN_PREFIX = "EXP1."
NOTES_LIMIT = 32_765
CONTACT_FIELDS = (
    "CONTACT_STATUS", "FIRST_NAME", "LAST_NAME", "INITIAL", "TITLE", "MAIL_STOP", "ADDRESS_1", "ADDRESS_2",
    "ADDRESS_3", "CITY", "STATE", "ZIP_CODE", "COUNTRY", "PHONE_NO", "FAX_NO", "CELL_PHONE_NO", "PAGER_NO",
    "E_MAIL", "E_MAIL_2", "WEB_ADDRESS", *(f"SOFCT_USER_{n}" for n in range(1, 17)), "NOTES", "ATTACHMENTS",
)  # fmt: skip
KEYS = ("CUSTOMER_ID", "CUST_CONTACT")
AUDIT_FIELDS = (
    "CREATED_BY",
    "DATE_CREATED",
    "MODIFIED_BY",
    "DATE_MODIFIED",
    "OPERATOR_ID",
    "DATE_LAST_UPDT",
    "TIME_LAST_UPDT",
)
CODES = {400: "E400", 401: "E401", 405: "E405", 500: "E500"}


class ExpandableError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, f"E{status}")


class ExpandableSimulator(Simulator):
    name = "expandable"
    status_values = {"active": "A", "inactive": "I"}

    def __init__(
        self,
        data_source: str = "DEMO",
        user_name: str = "sync",
        password: str = "sync-pass",
        token_ttl_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = {"DATA_SOURCE": data_source, "USER_NAME": user_name, "PASSWORD": password}
        self.token_ttl_seconds = token_ttl_seconds
        self.clock = clock
        self.tokens: dict[str, float] = {}  # token -> expiry on ``clock``
        super().__init__()

    def rules(self) -> list[Rule]:
        return [
            Rule("/api/auth-token-get", endpoint="token_get"),
            Rule("/api/customer-contact-update", endpoint="contact_update"),
            Rule("/api/customer-contact-create", endpoint="contact_create"),
        ]

    def error_response(self, status: int, message: str, *, request: Request | None = None) -> Response:
        return _error(ExpandableError(status, message))

    # -- endpoints ---------------------------------------------------------------------------
    def token_get(self, request: Request) -> Response:
        try:
            body = _post_json(request)
            if {k: body.get(k) for k in self.credentials} != self.credentials:
                raise ExpandableError(401, "Auth Token login failure.", "E403")
        except ExpandableError as exc:
            return _error(exc)
        token = TOKEN_PREFIX + secrets.token_hex(16)
        self.tokens[token] = self.clock() + self.token_ttl_seconds
        return _json({"AUTH_TOKEN": token})

    def contact_update(self, request: Request) -> Response:
        try:
            body = _post_json(request)
            self._check_token(body)
            fields = self._contact_fields(body)
            record = self.records.get(_record_key(body))
            if record is None:
                raise ExpandableError(400, "Customer Contact not found.", "E404")
        except ExpandableError as exc:
            return _error(exc)
        record.update(fields)
        self._stamp(record, created=False)
        return _json(record)

    def contact_create(self, request: Request) -> Response:
        try:
            body = _post_json(request)
            self._check_token(body)
            fields = self._contact_fields(body)
            if _record_key(body) in self.records:
                raise ExpandableError(400, "Customer Contact already exists.", "E406")
        except ExpandableError as exc:
            return _error(exc)
        return _json(self.seed_contact(str(body["CUSTOMER_ID"]), str(body["CUST_CONTACT"]), **fields))

    # -- state ---------------------------------------------------------------------------------
    def seed_contact(self, customer_id: str, contact: str, **fields: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "CUSTOMER_ID": customer_id,
            "CUST_CONTACT": contact,
            **dict.fromkeys(CONTACT_FIELDS, ""),
        }
        record.update(fields)
        self._stamp(record, created=True)
        self.records[f"{customer_id}/{contact}"] = record
        return record

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def on_expire_tokens(self) -> None:
        self.revoke_tokens()

    # -- rules ---------------------------------------------------------------------------------
    def _check_token(self, body: dict[str, Any]) -> None:
        token = body.get("AUTH_TOKEN")
        if not token:
            raise ExpandableError(401, "Auth Token was not provided.", "E401")
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            raise ExpandableError(401, "Auth Token is malformed.", "E402")
        expires = self.tokens.get(token)
        if expires is None or expires <= self.clock():
            raise ExpandableError(401, "Auth Token login failure.", "E403")

    def _contact_fields(self, body: dict[str, Any]) -> dict[str, str]:
        for key in KEYS:
            if not body.get(key):
                raise ExpandableError(400, f"Request JSON is invalid: {key} is required.")
        unknown = sorted(set(body) - set(CONTACT_FIELDS) - set(KEYS) - {"AUTH_TOKEN"})
        if unknown:
            raise ExpandableError(400, f"Request JSON is invalid: unknown fields {', '.join(unknown)}.")
        fields = {name: value for name, value in body.items() if name in CONTACT_FIELDS}
        if not fields:
            raise ExpandableError(400, "Request JSON is invalid: at least one field to update is required.")
        for name, value in fields.items():
            if not isinstance(value, str):
                raise ExpandableError(400, f"Request JSON is invalid: {name} must be a string.")
        if len(fields.get("NOTES", "")) > NOTES_LIMIT:
            raise ExpandableError(400, f"Request JSON is invalid: NOTES is longer than {NOTES_LIMIT} characters.")
        return fields

    def _stamp(self, record: dict[str, Any], *, created: bool) -> None:
        now = datetime.now(UTC)
        user = self.credentials["USER_NAME"].upper()
        if created:
            record.update(CREATED_BY=user, DATE_CREATED=now.strftime("%Y-%m-%d"))
        record.update(
            MODIFIED_BY=user,
            DATE_MODIFIED=now.strftime("%Y-%m-%d"),
            OPERATOR_ID=user,
            DATE_LAST_UPDT=now.strftime("%Y%m%d"),
            TIME_LAST_UPDT=now.strftime("%H%M%S"),
        )


def _record_key(body: dict[str, Any]) -> str:
    return f"{body['CUSTOMER_ID']}/{body['CUST_CONTACT']}"


def _post_json(request: Request) -> dict[str, Any]:
    if request.method != "POST":
        raise ExpandableError(405, "Request method must be POST.")
    try:
        body = json.loads(request.get_data() or b"")
    except json.JSONDecodeError as exc:
        raise ExpandableError(400, "Request JSON is invalid.") from exc
    if not isinstance(body, dict):
        raise ExpandableError(400, "Request JSON is invalid.")
    return body


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(exc: ExpandableError) -> Response:
    return _json({"MESSAGE": exc.message, "MESSAGE_CODE": exc.code}, status=exc.status)


def from_secret(secret: dict[str, Any]) -> ExpandableSimulator:
    """The simulator that accepts the credentials of this vendor's secret."""
    return ExpandableSimulator(secret["data_source"], secret["user_name"], secret["password"])
