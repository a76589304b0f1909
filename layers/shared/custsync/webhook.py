"""The webhook: verify the sender, normalise to ``CustomerChange``s, fan them out to the vendor queues.

Answers 202 ``{changeId, vendors}`` for one change, 202 ``{changeIds, vendors}``
for several (a HubSpot delivery), 200 ``{changeIds: [], vendors: []}`` when there
is nothing to queue (a WooCommerce ping, an event type or topic not handled: one
rule for every source, so that no sender retries it and then disables its
subscription; counted as ``WebhooksIgnored`` per source and event type); 401
bad or missing signature, stale or post-dated timestamp; 400 invalid body or
header, naming it; 404 unknown source, or one not configured (no signing secret
set, or only a placeholder); 413 body over the limit; 503 when the queue or
Secrets Manager is unusable, or the source's secret is malformed, so the sender
redelivers. Nothing a client sends produces a 500.

No change is queued with a time later than now plus ``MAX_CLOCK_SKEW_SECONDS``:
a time some sources take from a header they do not sign (Shopify's
``X-Shopify-Triggered-At``) could otherwise pin a customer's fields until then.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from custsync import routing
from custsync.api_docs import WEBHOOK
from custsync.config import WebhookSettings
from custsync.errors import ConfigurationError
from custsync.fanout import FanOut
from custsync.model import CustomerChange
from custsync.observability import NAMESPACE, SERVICE, logger, metrics
from custsync.secrets import SecretUnavailable, get_secret_json
from custsync.sources import SOURCES, BadPayload, Changes, SignatureInvalid, TimeWindow, WebhookRequest, signing_secrets
from custsync.sources.base import nesting_depth, parse_json
from custsync.validation import describe_validation_error

__all__ = ["build_webhook_app", "nesting_depth", "parse_json", "raw_body", "request_url", "webhook_request"]

# An event type as a metric dimension: signed by the sender, yet kept short and plain.
_DIMENSION_UNSAFE = re.compile(r"[^A-Za-z0-9._:/()\- ]")


def _json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def raw_body(event: Mapping[str, Any]) -> bytes:
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


def request_url(event: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """The URL the sender called, rebuilt from an API Gateway REST proxy event.

    ``X-Forwarded-Proto`` and ``Host`` (as API Gateway passes them: the execute-api
    or custom domain), then ``requestContext.path``: the path as called, with the
    stage (execute-api) or the base path (custom domain). API Gateway gives the
    query string only parsed, so it is re-encoded in the order given; a target
    URL without a query string is rebuilt exactly.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    context = event.get("requestContext")
    context = context if isinstance(context, dict) else {}
    scheme = (lowered.get("x-forwarded-proto") or "https").split(",")[0].strip()
    host = lowered.get("host") or context.get("domainName") or "localhost"
    url = f"{scheme}://{host}{context.get('path') or event.get('path') or '/'}"
    query = event.get("multiValueQueryStringParameters")
    if isinstance(query, dict) and query:
        pairs = [
            (name, value)
            for name, values in query.items()
            for value in (values if isinstance(values, list) else [values])
        ]
        url += "?" + urlencode(pairs)
    return url


def webhook_request(
    event: Mapping[str, Any], max_json_depth: int = 32, received_at: float | None = None
) -> WebhookRequest:
    """The call as the sender made it; ``BadPayload`` naming a body, header or path that cannot be read as sent."""
    headers = {str(name): str(value) for name, value in (event.get("headers") or {}).items()}
    for name, value in headers.items():
        _signable(name + value, f"header {name.encode('utf-8', 'backslashreplace').decode()}")
    try:
        url = _signable(request_url(event, headers), "path")
    except UnicodeEncodeError as exc:  # a query value urlencode could not encode
        raise BadPayload("path: is not valid UTF-8 text") from exc
    method = _signable(str(event.get("httpMethod") or "POST"), "httpMethod")
    return WebhookRequest(
        method=method,
        url=url,
        headers=headers,
        body=raw_body(event),
        max_json_depth=max_json_depth,
        received_at=time.time() if received_at is None else received_at,
    )


def _signable(text: str, what: str) -> str:
    """``text``, which signatures cover as UTF-8; ``BadPayload`` naming ``what`` when it holds a lone surrogate."""
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise BadPayload(f"{what}: is not valid UTF-8 text") from exc
    return text


def count_ignored(source_name: str, event_types: list[str]) -> None:
    """``WebhooksIgnored`` per source (this invocation's metrics) and per source and event type (one metric each)."""
    metrics.add_metric(name="WebhooksIgnored", unit=MetricUnit.Count, value=len(event_types))
    for event_type, count in sorted({t: event_types.count(t) for t in event_types}.items()):
        with single_metric(
            name="WebhooksIgnored",
            unit=MetricUnit.Count,
            value=count,
            namespace=NAMESPACE,
            default_dimensions={"service": SERVICE, "source": source_name},
        ) as metric:
            metric.add_dimension(name="event_type", value=_DIMENSION_UNSAFE.sub("_", event_type)[:64] or "_")


def no_later_than(change: CustomerChange, latest: float) -> CustomerChange:
    """``change``, its time brought back to ``latest`` (unix seconds) if it is later."""
    if change.occurred_at.timestamp() <= latest:
        return change
    logger.warning(
        "a change's time is ahead of the clock; queued at the latest time allowed",
        extra={"source": change.source, "customer_key": change.customer.key},
    )
    return change.model_copy(update={"occurred_at": datetime.fromtimestamp(latest, UTC)})


def build_webhook_app(
    settings: WebhookSettings, fanout: FanOut | None = None, clock: Callable[[], float] | None = None
) -> APIGatewayRestResolver:
    known_vendors = list(settings.vendor_queues)
    routing.current(
        known_vendors
    )  # a routing that does not validate, or names a vendor with no queue, fails the cold start
    app = APIGatewayRestResolver()
    queues = fanout or FanOut(settings.vendor_queues)

    def misconfigured(source_name: str, exc: ConfigurationError) -> Response[Any]:
        logger.error("webhook secret is misconfigured", extra={"source": source_name, "reason": str(exc)})
        return _json(503, {"error": f"source: '{source_name}' has a misconfigured secret; redeliver later"})

    @app.post("/webhooks/<source_name>", **WEBHOOK.options)
    def receive(source_name: str) -> Response[Any]:
        source = SOURCES.get(source_name)
        try:
            secrets = signing_secrets(get_secret_json(settings.webhook_secret_name), source_name) if source else []
        except ConfigurationError as exc:
            return misconfigured(source_name, exc)
        except SecretUnavailable as exc:
            logger.error("webhook secret unavailable", extra={"source": source_name, "reason": str(exc)})
            return _json(503, {"error": "secret: temporarily unavailable, redeliver later"})
        if source is None or not secrets:
            # The same answer for a source that does not exist and one not set up: nothing tells them apart.
            metrics.add_metric(name="WebhooksRejected", unit="Count", value=1)
            return _json(404, {"error": f"source: '{source_name}' is not configured as a webhook source"})
        metrics.add_dimension(name="source", value=source_name)  # a known source: the dimension's values are few
        now = clock() if clock else time.time()  # what signed timestamps are checked against (tests move it on)
        try:
            request = webhook_request(app.current_event.raw_event, settings.max_json_depth, received_at=now)
        except BadPayload as exc:
            return _json(400, {"error": str(exc)})
        if len(request.body) > settings.max_body_bytes:
            size = len(request.body)
            return _json(413, {"error": f"body: {size} bytes is over the {settings.max_body_bytes}-byte limit"})
        window = TimeWindow(now, settings.max_clock_skew_seconds)
        try:
            source.verify(request, secrets, window)
        except SignatureInvalid as exc:
            metrics.add_metric(name="WebhooksRejected", unit="Count", value=1)
            return _json(401, {"error": str(exc)})
        except ConfigurationError as exc:
            return misconfigured(source_name, exc)
        try:
            normalised = source.normalise(request)
            changes = Changes([no_later_than(c, window.latest) for c in normalised], ignored=normalised.ignored)
        except BadPayload as exc:
            return _json(400, {"error": str(exc)})
        except ValidationError as exc:
            return _json(400, {"error": describe_validation_error(exc)})
        if changes.ignored:
            count_ignored(source_name, changes.ignored)
            logger.info("event types not handled", extra={"source": source_name, "event_types": changes.ignored})
        if not changes:
            if not changes.ignored:
                metrics.add_metric(name="WebhooksAccepted", unit="Count", value=1)
            logger.info("nothing to queue", extra={"source": source_name})
            return _json(200, {"changeIds": [], "vendors": []})
        routed = routing.current(known_vendors).vendors_for(source_name, known_vendors)
        if not routed:
            return _json(404, {"error": f"source: '{source_name}' is routed to no vendor (routing sources)"})
        vendors: list[str] = []
        for change in changes:
            logger.set_correlation_id(change.change_id)
            try:
                vendors = queues.send(change, routed)
            except (BotoCoreError, ClientError):
                logger.exception("could not queue the change; the source should redeliver")
                return _json(503, {"error": "queue: temporarily unavailable, redeliver later"})
            logger.info(
                "change queued", extra={"source": source_name, "vendors": vendors, "customer_key": change.customer.key}
            )
        metrics.add_metric(name="WebhooksAccepted", unit="Count", value=1)
        change_ids = [change.change_id for change in changes]
        if len(change_ids) == 1:
            return _json(202, {"changeId": change_ids[0], "vendors": vendors})
        return _json(202, {"changeIds": change_ids, "vendors": vendors})

    @app.not_found
    def no_route(exc: Exception) -> Response[Any]:
        event = app.current_event
        return _json(
            404, {"error": f"path: {event.http_method} {event.path} is not a route; POST /webhooks/{{source}}"}
        )

    return app
