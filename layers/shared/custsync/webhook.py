"""The webhook: verify the sender, normalise to a ``CustomerChange``, fan out to the vendor queues.

Answers 202 ``{changeId, vendors}``; 401 bad or missing signature; 400 invalid
body or header, naming it; 404 unknown source; 413 body over the limit. Nothing
a client sends produces a 500.
"""

from __future__ import annotations

import base64
import json
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


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")


def build_webhook_app(settings: WebhookSettings, fanout: FanOut | None = None) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()
    queues = fanout or FanOut(settings.vendor_queues)

    @app.post("/webhooks/<source_name>")
    def receive(source_name: str) -> Response[Any]:
        source = SOURCES.get(source_name)
        secret = get_secret_json(settings.webhook_secret_name).get(source_name) if source else None
        if source is None or not secret:
            return _json(404, {"error": f"source: '{source_name}' is not a configured webhook source"})
        body = raw_body(app.current_event.raw_event)
        if len(body) > settings.max_body_bytes:
            return _json(413, {"error": f"body: {len(body)} bytes is over the {settings.max_body_bytes}-byte limit"})
        headers = dict(app.current_event.headers or {})
        try:
            source.verify(headers, body, str(secret))
        except SignatureInvalid as exc:
            metrics.add_metric(name="WebhooksRejected", unit="Count", value=1)
            return _json(401, {"error": str(exc)})
        try:
            change = source.normalise(headers, json.loads(body))
        except json.JSONDecodeError:
            return _json(400, {"error": "body: is not valid JSON"})
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

    return app
