"""Exigo (REST) by hand: for each SQS record, read the secret (once a container), GetItem the customer's state row,
PATCH ``3.0/customers`` (UpdateCustomer: camelCase JSON, Basic ``login@company:password``, the customer by
``customerID`` when known, else ``customerKey``; a 200 can still carry a ``message`` saying it failed), PutItem."""

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
FIELDS = {"firstName": "first_name", "lastName": "last_name", "company": "company", "email": "email"}
_vendor: dict[str, Any] = {}


def vendor() -> dict[str, Any]:
    if not _vendor:
        secret = json.loads(secrets.get_secret_value(SecretId=os.environ["VENDOR_SECRET_NAME"])["SecretString"])
        auth = (f"{secret['login_name']}@{secret['company']}", secret["password"])
        _vendor.update(http=httpx.Client(base_url=secret["base_url"], auth=auth, timeout=10))
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
    http: httpx.Client = vendor()["http"]
    key = {"vendor": {"S": VENDOR}, "customer_key": {"S": customer["key"]}}
    row = dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item") or {}
    customer_id = row.get("customer_id", {}).get("N")
    identity = {"customerID": int(customer_id)} if customer_id else {"customerKey": customer["key"]}
    fields = {theirs: customer[ours] or "" for theirs, ours in FIELDS.items() if ours in customer}
    answer = http.patch("3.0/customers", json={**identity, **fields})
    answer.raise_for_status()
    if (answer.json() or {}).get("message"):
        raise RuntimeError(answer.json()["message"])
    dynamodb.put_item(TableName=TABLE, Item={**key, "customer": {"S": json.dumps(customer)}})
