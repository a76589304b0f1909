"""The webhook: verify the sender, normalise to a ``CustomerChange``, fan out to the vendor queues.

Answers 202 ``{changeId, vendors}``; 401 bad or missing signature; 400 invalid
body or header, naming it; 404 unknown source; 413 body over the limit. Nothing
a client sends produces a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from itertools import accumulate
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from custsync.config import WebhookSettings
from custsync.fanout import FanOut
from custsync.observability import logger, metrics
from custsync.secrets import get_secret_json
from custsync.sources import SOURCES, BadPayload, SignatureInvalid
from custsync.validation import describe_validation_error


def _json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


# A JSON string, escapes included; possessive, so it never backtracks.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')


def raw_body(event: dict[str, Any]) -> bytes:
    """The bytes the sender signed; ``BadPayload`` when the event's body cannot be turned back into them."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadPayload("body: isBase64Encoded is set but the body is not valid base64") from exc
    try:
        return str(body).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadPayload(f"body: is not valid UTF-8 (a lone surrogate at offset {exc.start})") from exc


def parse_json(body: bytes, max_depth: int) -> Any:
    """The body as JSON, or ``BadPayload`` naming why not: not UTF-8, nested too deep, not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPayload(f"body: is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})") from exc
    if nesting_depth(text) > max_depth:
        raise BadPayload(f"body: nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadPayload("body: is not valid JSON") from exc


def nesting_depth(text: str) -> int:
    """How deep JSON ``text`` nests arrays and objects, in one linear pass (strings skipped)."""
    structure = _JSON_STRING.sub("", text)
    steps = (1 if char in "[{" else -1 for char in structure if char in "[]{}")
    return max(accumulate(steps, initial=0))


def build_webhook_app(settings: WebhookSettings, fanout: FanOut | None = None) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()
    queues = fanout or FanOut(settings.vendor_queues)

    @app.post("/webhooks/<source_name>")
    def receive(source_name: str) -> Response[Any]:
        source = SOURCES.get(source_name)
        secret = get_secret_json(settings.webhook_secret_name).get(source_name) if source else None
        if source is None or not secret:
            return _json(404, {"error": f"source: '{source_name}' is not a configured webhook source"})
        try:
            body = raw_body(app.current_event.raw_event)
        except BadPayload as exc:
            return _json(400, {"error": str(exc)})
        if len(body) > settings.max_body_bytes:
            return _json(413, {"error": f"body: {len(body)} bytes is over the {settings.max_body_bytes}-byte limit"})
        headers = dict(app.current_event.headers or {})
        try:
            source.verify(headers, body, str(secret))
        except SignatureInvalid as exc:
            metrics.add_metric(name="WebhooksRejected", unit="Count", value=1)
            return _json(401, {"error": str(exc)})
        try:
            change = source.normalise(headers, parse_json(body, settings.max_json_depth))
        except BadPayload as exc:
            return _json(400, {"error": str(exc)})
        except ValidationError as exc:
            return _json(400, {"error": describe_validation_error(exc)})
        logger.set_correlation_id(change.change_id)
        try:
            vendors = queues.send(change)
        except (BotoCoreError, ClientError):
            logger.exception("could not queue the change; the source should redeliver")
            return _json(503, {"error": "queue: temporarily unavailable, redeliver later"})
        metrics.add_metric(name="WebhooksAccepted", unit="Count", value=1)
        logger.info(
            "change queued", extra={"source": source_name, "vendors": vendors, "customer_key": change.customer.key}
        )
        return _json(202, {"changeId": change.change_id, "vendors": vendors})

    @app.not_found
    def no_route(exc: Exception) -> Response[Any]:
        event = app.current_event
        return _json(
            404, {"error": f"path: {event.http_method} {event.path} is not a route; POST /webhooks/{{source}}"}
        )

    return app
