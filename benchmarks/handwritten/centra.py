"""Centra (SOAP) by hand: for each SQS record, read the secret (once a container), GetItem the customer's state
row, POST the ``customers_Update`` envelope as text (its elements in the WSDL's order, values escaped), read
a Fault's faultstring from the reply when it is not a 200, PutItem."""

from __future__ import annotations

import json
import os
import re
from typing import Any
from xml.sax.saxutils import escape

import boto3
import httpx

secrets = boto3.client("secretsmanager")
dynamodb = boto3.client("dynamodb")
TABLE = os.environ["STATE_TABLE"]
VENDOR = os.environ["VENDOR"]
ACTION = '"http://www.centra.com/webservices/Customers_Update"'
# The WSDL's sequence: id, store, then these (canonical names on the right).
FIELDS = {"firstname": "first_name", "lastname": "last_name", "email": "email"}
ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body><ns1:customers_Update>\
<ns1:login><ns1:username>{username}</ns1:username><ns1:password>{password}</ns1:password></ns1:login>\
<ns1:customers><ns1:customer>{customer}</ns1:customer></ns1:customers>\
</ns1:customers_Update></SOAP-ENV:Body></SOAP-ENV:Envelope>"""
FAULT = re.compile(r"<faultstring>(.*?)</faultstring>", re.DOTALL)
_vendor: dict[str, Any] = {}


def vendor() -> dict[str, Any]:
    if not _vendor:
        secret = json.loads(secrets.get_secret_value(SecretId=os.environ["VENDOR_SECRET_NAME"])["SecretString"])
        _vendor.update(secret, http=httpx.Client(timeout=10))
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
    dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    elements = {"id": customer["key"], "store": str(settings.get("store", 1))}
    elements.update({theirs: customer[ours] or "" for theirs, ours in FIELDS.items() if ours in customer})
    body = "".join(f"<ns1:{name}>{escape(value)}</ns1:{name}>" for name, value in elements.items())
    login = {name: escape(str(settings[name])) for name in ("username", "password")}
    answer = http.post(
        settings["base_url"],
        content=ENVELOPE.format(customer=body, **login).encode(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ACTION},
    )
    if answer.status_code != 200:
        fault = FAULT.search(answer.text)
        raise RuntimeError(fault.group(1) if fault else f"HTTP {answer.status_code}")
    dynamodb.put_item(TableName=TABLE, Item={**key, "customer": {"S": json.dumps(customer)}})
