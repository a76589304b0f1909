"""The OpenAPI description of the two HTTP routes, declared once.

The routes' decorators take ``WEBHOOK.options`` and ``SYNC_API.options`` (summary, description, tags, operation
id, every response with its body model); ``devkit/openapi.py`` builds ``openapi.yaml`` from the same declarations.

Powertools' request validation stays off: it would answer 422 where the handlers answer 400 naming the field.
With it off, Powertools passes a route its path parameters only, so the handlers cannot declare their query,
header and body parameters in their signatures. Each route's ``parameters`` makes a signature-only function that
declares them, which the document builder registers on a resolver of its own. Their annotations are evaluated
where they are defined (no ``from __future__ import annotations`` here), so that Powertools' parameter classes
(~90 ms to import) are loaded by the document builder only, never at a function's cold start.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from custsync.model import Customer, CustomerKey

JSON = content_types.APPLICATION_JSON


class Answer(BaseModel):
    """A response body, exactly: no other member."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Problem(Answer):
    error: str = Field(description="What was wrong, naming the field, header or path segment.")


class GatewayRefusal(Answer):
    message: str = Field(description='API Gateway\'s own, e.g. "Missing Authentication Token".')


class Queued(Answer):
    changeId: str = Field(description="The change's id: the FIFO queues' deduplication id.")
    vendors: list[str] = Field(description="The vendors it was queued for.")


class QueuedMany(Answer):
    changeIds: list[str] = Field(min_length=2, description="One per change, oldest first.")
    vendors: list[str] = Field(description="The vendors each was queued for.")


class NothingQueued(Answer):
    changeIds: list[str] = Field(max_length=0)
    vendors: list[str] = Field(max_length=0)


class SyncFailure(Answer):
    error: str = Field(description="Why, naming the field or the vendor's reason (masked).")
    vendorStatus: int | SkipJsonSchema[None] = Field(
        default=None, description="The vendor's HTTP status, when the vendor answered."
    )


class SyncOutcome(Answer):
    outcome: Literal["applied", "skipped"]
    changeId: str
    customerKey: str
    reason: str | None = Field(description="Why it was skipped: duplicate, stale or no-op.")
    operations: list[str] = Field(description="The vendor calls made.")
    response: Any = Field(description="The vendor's answer to the last call.")


class DryRunOutcome(SyncOutcome):
    dryRun: Literal[True]


class VendorCall(Answer):
    operation: str
    payload: dict[str, Any] = Field(description="Exactly what the vendor would be sent.")


class VendorRequest(Answer):
    calls: list[VendorCall]


class WireRequest(Answer):
    method: str
    url: str
    headers: dict[str, str] = Field(description="Every header, credentials masked.")
    body: str = Field(description="The body as sent (JSON, a SOAP envelope, XML-RPC, a form), secrets masked.")


class DryRunPlan(Answer):
    dryRun: Literal[True]
    request: VendorRequest = Field(description="The whole mapped request.")
    wouldSend: VendorRequest = Field(description="The calls whose payload differs from the last one sent.")
    wire: list[WireRequest] = Field(
        description="Each call of wouldSend as the vendor would receive it, secrets masked; what only reads is made."
    )


def _key_optional(schema: dict[str, Any]) -> None:
    required = [name for name in schema.pop("required", []) if name != "key"]
    if required:
        schema["required"] = required


class CustomerBody(Customer):
    """A canonical Customer. ``key`` may be left out: it is the path's, and must equal it when given."""

    model_config = ConfigDict(json_schema_extra=_key_optional, defer_build=True)


def _responses(described: dict[int, tuple[str, Any]]) -> dict[int, OpenAPIResponse]:
    return {
        status: {"description": text, "content": {JSON: {"model": model}}}
        for status, (text, model) in described.items()
    }


@dataclass(frozen=True)
class RouteDocs:
    method: str
    path: str  # as the template declares it, in Powertools' syntax
    options: dict[str, Any]  # the route decorator's
    #: The vendor names -> a function whose signature declares the route's parameters, for the document only.
    parameters: Callable[[Sequence[str]], Callable[..., None]]


def _webhook_parameters(vendors: Sequence[str]) -> Callable[..., None]:
    from aws_lambda_powertools.event_handler.openapi.params import Body, Path

    from custsync.sources import SOURCES

    def receive(
        source: Annotated[
            str,
            Path(
                description=f"The sending platform: {', '.join(sorted(SOURCES))}. "
                "Any other, or one not configured (no signing secret set, or only a placeholder), is 404.",
                examples=sorted(SOURCES),
            ),
        ],
        payload: Annotated[
            Any,
            Body(
                media_type=JSON,
                description="The platform's payload, exactly as it signed it (a WooCommerce ping is form-encoded).",
            ),
        ],
    ) -> None: ...

    return receive


def _sync_parameters(vendors: Sequence[str]) -> Callable[..., None]:
    from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

    def put_customer(
        vendor: Annotated[
            str,
            Path(
                description="The vendor; each has its own function behind its own resource.",
                json_schema_extra={"enum": list(vendors)},
            ),
        ],
        key: Annotated[CustomerKey, Path(description="The customer's key, as the source system knows it.")],
        customer: Annotated[CustomerBody, Body(media_type=JSON)],
        dry_run: Annotated[
            bool,
            Query(alias="dryRun", description="true: answer with the exact vendor request; nothing is sent."),
        ] = False,
        vendor_id: Annotated[
            str | SkipJsonSchema[None],
            Query(alias="vendorId", description="The customer's id at the vendor, when the state table has none."),
        ] = None,
        idempotency_key: Annotated[
            str | SkipJsonSchema[None],
            Header(
                alias="Idempotency-Key",
                max_length=128,
                description="The change id; the same key again is a duplicate. Default: the request id.",
            ),
        ] = None,
        occurred_at: Annotated[
            str | SkipJsonSchema[None],
            Header(
                alias="X-Occurred-At",
                json_schema_extra={"format": "date-time"},
                description="When the change happened (ISO-8601 with a zone); orders changes. Default: now.",
            ),
        ] = None,
    ) -> None: ...

    return put_customer


WEBHOOK = RouteDocs(
    method="POST",
    path="/webhooks/<source>",
    options={
        "summary": "Receive a customer webhook from a source platform",
        "description": (
            "Verifies the sender on the raw body, in constant time, against every secret configured for the "
            "source (Shopify `X-Shopify-Hmac-Sha256`, HubSpot signature v3, `Stripe-Signature`, WooCommerce "
            "`X-WC-Webhook-Signature`, Standard Webhooks `webhook-signature`; a signed timestamp must be within "
            "`MAX_CLOCK_SKEW_SECONDS` of now), maps the payload to canonical customer changes (updates, deletions, "
            "erasures) and queues each for every enabled vendor. Never a 500 for anything a client sends."
        ),
        "tags": ["webhooks"],
        "operation_id": "receiveWebhook",
        "responses": _responses(
            {
                200: (
                    "Verified; nothing to queue (a WooCommerce ping, an event type or topic not handled, whatever the "
                    "source: counted, never refused, so the sender keeps its subscription).",
                    NothingQueued,
                ),
                202: ("Queued: one change, or several (a HubSpot delivery), oldest first.", Queued | QueuedMany),
                400: ("The body or a header cannot be read or is invalid; `error` names it.", Problem),
                401: ("Missing or bad signature, or a signed timestamp too old or too far ahead.", Problem),
                403: (
                    "Not from the function: API Gateway's answer to a path that is no route (no source).",
                    GatewayRefusal,
                ),
                404: (
                    "Not a source, or one not configured: the webhook secret holds no signing secret for it "
                    "(or only a placeholder).",
                    Problem,
                ),
                413: ("The body is over `MAX_BODY_BYTES` (default 256 KiB).", Problem),
                503: (
                    "The queue or Secrets Manager is unavailable, or the webhook secret is malformed (not a JSON "
                    "object, or a value not in the source's format): redeliver later.",
                    Problem,
                ),
            }
        ),
    },
    parameters=_webhook_parameters,
)

SYNC_API = RouteDocs(
    method="PUT",
    path="/vendors/<vendor>/customers/<key>",
    options={
        "summary": "Apply a customer at one vendor now, or show the request a dry run would send",
        "description": (
            "Merges the canonical customer onto what the vendor is known to hold and sends what is newer, through "
            "the same engine as the queues (skipped when a duplicate, stale or a no-op). IAM-authorised: API "
            "Gateway refuses an unsigned call (SigV4) before the function runs."
        ),
        "tags": ["sync API"],
        "operation_id": "putCustomer",
        "responses": _responses(
            {
                200: (
                    "Applied or skipped; with `dryRun=true`, why it would be skipped or the request it would send.",
                    SyncOutcome | DryRunOutcome | DryRunPlan,
                ),
                400: (
                    "The body is not a valid Customer, its key is not the path's, `X-Occurred-At` is not a "
                    "timestamp with a zone, or the vendor's mapping refuses it (a field it requires that no change "
                    "has carried, too long a field); `error` names it.",
                    SyncFailure,
                ),
                403: (
                    "Not from the function: API Gateway's answer to a call not signed with SigV4 by a principal "
                    "allowed to invoke the API, or to a path that is no route (not one of these vendors).",
                    GatewayRefusal,
                ),
                404: ("This function serves another vendor.", SyncFailure),
                422: ("The vendor refused the request; `vendorStatus` is its status.", SyncFailure),
                502: ("The vendor refused our credentials, after reading them again.", SyncFailure),
                503: (
                    "Try again later: the vendor is down, slow or rate-limiting (`vendorStatus` when it answered), "
                    "its circuit is open, the customer is busy or settling after a call of unknown outcome, "
                    "the state table or Secrets Manager is unavailable, or the vendor is not configured (`error` "
                    "starts `not configured:` and names what its secret lacks).",
                    SyncFailure,
                ),
            }
        ),
    },
    parameters=_sync_parameters,
)
