"""``custsync preview``: what each vendor would receive for a change, exactly, secrets masked, nothing sent.

It asks the vendor functions themselves, through the sync API's ``?dryRun=true`` (``custsync/sync_api.py``,
``custsync/preview.py``): the deployed stage's API signed with your AWS credentials (SigV4; its URL is the
stack's ``ApiUrl`` output), or the local stack's (``custsync local up`` serves it). The change comes from a
``CustomerChange`` JSON file, or from a sample webhook (an API Gateway event for ``POST /webhooks/{source}``,
like ``events/webhook/*.json``) mapped as its source maps it, without checking its signature. The function
plans against its state table, so what is shown is what would go out now (a PATCH vendor: only what changed).
A routing condition (``when:``) is not applied: the sync API has none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from pydantic import ValidationError

from custsync.model import CustomerChange
from custsync.sources import SOURCES, BadPayload
from custsync.validation import describe_validation_error
from custsync.webhook import webhook_request
from devkit.inputs import InputError, read_json_object

if TYPE_CHECKING:
    from pathlib import Path

    from devkit.target import Target

TIMEOUT_SECONDS = 60


def change_from_file(path: Path) -> CustomerChange:
    data = read_json_object(path, "(a CustomerChange)")
    try:
        return CustomerChange.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path}: not a CustomerChange: {describe_validation_error(exc)}") from exc


def changes_from_event(path: Path) -> list[CustomerChange]:
    """The changes a sample webhook carries, as its source maps it (its signature is not checked)."""
    event = read_json_object(path, "(an API Gateway event for POST /webhooks/{source})")
    name = str((event.get("pathParameters") or {}).get("source", ""))
    source = SOURCES.get(name)
    if source is None:
        raise InputError(f"{path}: pathParameters.source: {name!r} is not a webhook source ({', '.join(SOURCES)})")
    try:
        changes = source.normalise(webhook_request(event))
    except BadPayload as exc:
        raise InputError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        raise InputError(f"{path}: {describe_validation_error(exc)}") from exc
    if not changes:
        raise InputError(f"{path}: {name} would queue nothing for this event (a ping, or an event type not handled)")
    return changes


def api_url(target: Target) -> str:
    """The stage's sync API: the stack's ``ApiUrl`` output; the local stack's, from ``custsync local up``."""
    if target.session is not None:
        return target.session.api_url
    stacks = target.client("cloudformation").describe_stacks(StackName=target.stack_name)["Stacks"]
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "ApiUrl":
            return str(output["OutputValue"])
    raise InputError(f"stack {target.stack_name} has no ApiUrl output: is it deployed from this template?")


@dataclass(frozen=True)
class Answer:
    vendor: str
    change: CustomerChange
    status: int
    body: dict[str, Any]


class SyncApi:
    """``PUT {url}vendors/<vendor>/customers/<key>`` as a caller makes it: signed for IAM when ``signed``."""

    def __init__(self, url: str, *, signed: bool, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.signed = signed
        self.http = httpx.Client(timeout=TIMEOUT_SECONDS, transport=transport)
        self.session = boto3.session.Session() if signed else None

    def dry_run(self, vendor: str, change: CustomerChange) -> Answer:
        query = {"dryRun": "true"}
        if vendor in change.vendor_ids:
            query["vendorId"] = change.vendor_ids[vendor]
        url = f"{self.url}vendors/{vendor}/customers/{quote(change.customer.key, safe='')}?{urlencode(query)}"
        body = change.customer.model_dump_json(exclude_unset=True).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": change.change_id,
            "X-Occurred-At": change.occurred_at.isoformat(),
        }
        if self.session is not None:
            headers = self._signed("PUT", url, body, headers)
        response = self.http.put(url, content=body, headers=headers)
        try:
            answer = response.json()
        except ValueError:
            answer = {"error": response.text[:500] or f"HTTP {response.status_code}"}
        return Answer(vendor, change, response.status_code, answer if isinstance(answer, dict) else {"body": answer})

    def _signed(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        """SigV4 for ``execute-api``, as the API's ``AWS_IAM`` authorizer wants (botocore signs it)."""
        assert self.session is not None
        credentials = self.session.get_credentials()
        if credentials is None:
            raise InputError("no AWS credentials to sign the sync API call with (AWS_PROFILE, aws configure...)")
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(credentials, "execute-api", self.session.region_name or "eu-west-1").add_auth(request)
        return dict(request.headers.items())

    def close(self) -> None:
        self.http.close()


def render(answer: Answer) -> str:
    """One vendor's answer as the operator reads it: each request as it would go on the wire."""
    head = f"== {answer.vendor}: change {answer.change.change_id}, customer {answer.change.customer.key}"
    body = answer.body
    if answer.status != 200:
        return f"{head}\nrefused (HTTP {answer.status}): {body.get('error', body)}\n"
    if "wire" not in body:
        return f"{head}\nnothing would be sent: {body.get('outcome', '?')} ({body.get('reason')})\n"
    if not body["wire"]:
        return f"{head}\nnothing would be sent: the vendor already has every call's payload\n"
    parts = [head]
    for request in body["wire"]:
        headers = "".join(f"{name}: {value}\n" for name, value in request["headers"].items())
        parts.append(f"{request['method']} {request['url']}\n{headers}\n{request['body']}\n")
    return "\n".join(parts)


def as_json(answer: Answer) -> str:
    return json.dumps(
        {"vendor": answer.vendor, "changeId": answer.change.change_id, "status": answer.status, **answer.body}
    )
