"""Exsalerate by hand: for each SQS record, read the secret (once a container), GetItem the customer's state row,
GET ``api/Customer`` by RefCode while its CustomerId is unknown (Exsalerate's duplicate guard: a PUT without
CustomerId creates a record), PUT ``api/Customer`` (the whole record: an omitted property is blanked), PutItem."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import httpx

secrets = boto3.client("secretsmanager")
dynamodb = boto3.client("dynamodb")
TABLE = os.environ["STATE_TABLE"]
VENDOR = os.environ["VENDOR"]
FIELDS = {"CompanyEmail": "email", "Notes": "notes"}
_vendor: dict[str, Any] = {}


def vendor() -> dict[str, Any]:
    if not _vendor:
        secret = json.loads(secrets.get_secret_value(SecretId=os.environ["VENDOR_SECRET_NAME"])["SecretString"])
        auth = (secret["username"], secret["password"])
        _vendor.update(secret, http=httpx.Client(base_url=secret["base_url"], auth=auth, timeout=10))
    return _vendor


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        try:
            apply(json.loads(record["body"]))
        except Exception as exc:
            print(json.dumps({"message": "failed", "messageId": record["messageId"], "error": type(exc).__name__}))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def apply(change: dict[str, Any]) -> None:
    customer = change["customer"]
    settings = vendor()
    http: httpx.Client = settings["http"]
    key = {"vendor": {"S": VENDOR}, "customer_key": {"S": customer["key"]}}
    row = dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item") or {}
    customer_id = row.get("customer_id", {}).get("N")
    if customer_id is None:
        found = http.get("api/Customer", params={"siteOwnerId": settings["site_owner_id"], "refCode": customer["key"]})
        if found.status_code != 404:
            found.raise_for_status()
            customer_id = found.json().get("CustomerId")
    name = customer.get("company") or " ".join(filter(None, (customer.get("first_name"), customer.get("last_name"))))
    body = {
        "SiteOwnerId": settings["site_owner_id"],
        "AssignedToEmail": settings["assigned_to_email"],
        "CustomerName": name,
        "RefCode": customer["key"],
        "CustomerId": customer_id,
        "CompanyPhone": (customer.get("phones") or {}).get("main"),
        **{theirs: customer.get(ours) for theirs, ours in FIELDS.items()},
    }
    answer = http.put("api/Customer", json={k: v for k, v in body.items() if v not in (None, "")})
    answer.raise_for_status()
    customer_id = answer.json()["CustomerId"]
    item = {**key, "customer_id": {"N": str(customer_id)}, "customer": {"S": json.dumps(customer)}}
    dynamodb.put_item(TableName=TABLE, Item=item)
