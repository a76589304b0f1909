"""``make vendor NAME=acme PROTOCOL=rest|soap|xmlrpc``: a new vendor's every file, from ``devkit/vendor_template/``.

Writes what README's "Adding a vendor" lists, each a working skeleton to make into what the vendor documents:
``functions/<name>/`` (connector on ``custsync.sdk`` alone, ``app.py``, ``Makefile``, ``vendor.yaml``, a WSDL for
SOAP), a strict simulator ``devkit/simulators/<name>.py``, ``events/<name>/`` samples, its secret in
``local/secrets.json``, the three test modules, and its line in ``vendors.yaml``. ``make vendor`` then runs
``make template``. The skeleton's connector and simulator work together as they are: ``make test`` passes.

    python -m devkit.scaffold acme --protocol rest [--root DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import keyword
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from devkit.inputs import InputError
from devkit.vendors import ROOT, vendor_names

TEMPLATES = Path(__file__).with_name("vendor_template")
PROTOCOLS = ("rest", "soap", "xmlrpc")
PROTOCOL_NAMES = {"rest": "REST", "soap": "SOAP", "xmlrpc": "XML-RPC"}
NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
# Where the local stack's simulators listen, in local/secrets.json (the tests move them to free ports).
FIRST_PORT = 18101
CUSTOMER = {
    "key": "C-9001",
    "company": "Northwind Traders",
    "first_name": "Nancy",
    "last_name": "Davolio",
    "email": "nancy@northwind.example",
    "phones": {"main": "+4681234567"},
    "address": {"city": "Stockholm", "country": "SE"},
    "status": "active",
}


def check_name(root: Path, name: str, protocol: str) -> None:
    if not NAME.match(name) or keyword.iskeyword(name) or name == "webhook":
        raise InputError(f"NAME: {name!r} must be lower-case letters and digits, 2 to 31, starting with a letter")
    if protocol not in PROTOCOLS:
        raise InputError(f"PROTOCOL: {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    if name in vendor_names(root) or (root / "functions" / name).exists():
        raise InputError(f"NAME: {name} is already a vendor (vendors.yaml or functions/{name}/)")


def render(template: str, name: str, protocol: str) -> str:
    text = (TEMPLATES / template).read_text()
    blocks = {"{{MAPPING}}": "mapping.py.tmpl", "{{RULES}}": "rules.py.tmpl"}
    for placeholder, block in blocks.items():
        if placeholder in text:
            text = text.replace(placeholder, (TEMPLATES / block).read_text())
    return (
        text.replace("{{name}}", name)
        .replace("{{Title}}", name.capitalize())
        .replace("{{PROTOCOL}}", PROTOCOL_NAMES[protocol])
    )


def local_secret(secrets: dict[str, Any], protocol: str) -> dict[str, Any]:
    """The new vendor's local secret, its simulator on the next port after the others'."""
    ports = [
        int(match.group(1))
        for value in secrets.values()
        if isinstance(value, dict) and (match := re.search(r":(\d+)", str(value.get("base_url", ""))))
    ]
    origin = f"http://127.0.0.1:{max(ports, default=FIRST_PORT - 1) + 1}"
    if protocol == "rest":
        return {"base_url": origin, "api_key": "local-api-key"}
    if protocol == "soap":
        return {"base_url": f"{origin}/soap", "username": "sync", "password": "sync-pass"}
    return {"base_url": f"{origin}/xmlrpc", "username": "sync", "api_key": "local-api-key"}


def sqs_batch(name: str) -> dict[str, Any]:
    """An SQS event of one change, as Lambda's event source mapping delivers it."""
    change = {"change_id": f"batch-{name}-0001", "source": "batch", "occurred_at": "2026-11-20T09:00:00Z"}
    body = json.dumps({**change, "customer": CUSTOMER}, separators=(",", ":"))
    attributes = {"ApproximateReceiveCount": "1", "SentTimestamp": "1763629200000", "SenderId": "AIDAEXAMPLE"}
    record = {
        "messageId": f"5f2b8c1e-0000-4000-8000-{name[:4]:0<4}00000001",
        "receiptHandle": f"local-receipt-{name}-1",
        "body": body,
        "attributes": {
            **attributes,
            "ApproximateFirstReceiveTimestamp": "1763629200001",
            "SequenceNumber": "18880000000000000001",
            "MessageGroupId": CUSTOMER["key"],
            "MessageDeduplicationId": change["change_id"],
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:eu-west-1:123456789012:customer-sync-local-{name}.fifo",
        "awsRegion": "eu-west-1",
    }
    return {"Records": [record]}


def api_put(name: str, dry_run: bool) -> dict[str, Any]:
    """``PUT /vendors/<name>/customers/{key}`` as API Gateway hands it to the function (IAM-signed)."""
    key = "C-9002"
    request_id = f"api-{name}-000{1 if dry_run else 2}"
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": request_id,
        "X-Occurred-At": "2026-11-21T08:00:00Z",
    }
    query = {"dryRun": "true"} if dry_run else None
    body = {field: value for field, value in CUSTOMER.items() if field != "key"}
    return {
        "resource": f"/vendors/{name}/customers/{{key}}",
        "path": f"/vendors/{name}/customers/{key}",
        "httpMethod": "PUT",
        "headers": headers,
        "multiValueHeaders": {header: [value] for header, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"key": key},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": f"/vendors/{name}/customers/{{key}}",
            "httpMethod": "PUT",
            "path": f"/local/vendors/{name}/customers/{key}",
            "stage": "local",
            "requestId": request_id,
            "accountId": "123456789012",
            "identity": {"sourceIp": "127.0.0.1", "userArn": "arn:aws:iam::123456789012:user/operator"},
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def files(name: str, protocol: str) -> dict[str, str]:
    """Each file the vendor gets that is its own (path relative to the root -> text)."""
    written = {
        f"functions/{name}/connector.py": render(f"{protocol}.connector.py.tmpl", name, protocol),
        f"functions/{name}/app.py": render("app.py.tmpl", name, protocol),
        f"functions/{name}/Makefile": render("Makefile.tmpl", name, protocol),
        f"functions/{name}/vendor.yaml": render("vendor.yaml.tmpl", name, protocol),
        f"devkit/simulators/{name}.py": render(f"{protocol}.simulator.py.tmpl", name, protocol),
        f"tests/unit/test_{name}_mapping.py": render("test_mapping.py.tmpl", name, protocol),
        f"tests/integration/test_{name}_flow.py": render("test_flow.py.tmpl", name, protocol),
        f"tests/integration/simulators/test_{name}_simulator.py": render(
            f"{protocol}.test_simulator.py.tmpl", name, protocol
        ),
        f"events/{name}/sqs-batch.json": _json(sqs_batch(name)),
        f"events/{name}/api-put.json": _json(api_put(name, dry_run=False)),
        f"events/{name}/api-put-dry-run.json": _json(api_put(name, dry_run=True)),
    }
    if protocol == "soap":
        written[f"functions/{name}/{name}.wsdl"] = render("soap.wsdl.tmpl", name, protocol)
    return written


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def scaffold(root: Path, name: str, protocol: str) -> list[str]:
    """Write the vendor's files, its local secret and its line in vendors.yaml; the paths written."""
    check_name(root, name, protocol)
    written = files(name, protocol)
    for path, text in written.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    secrets_path = root / "local" / "secrets.json"
    secrets = json.loads(secrets_path.read_text())
    secrets[f"customer-sync/local/{name}"] = local_secret(secrets, protocol)
    secrets_path.write_text(_json(secrets))
    vendors = root / "vendors.yaml"
    vendors.write_text(vendors.read_text().rstrip("\n") + f"\n  - {name}\n")
    formatted(root, [path for path in written if path.endswith(".py")])
    return [*written, "local/secrets.json", "vendors.yaml"]


def formatted(root: Path, paths: list[str]) -> None:
    """The Python files as the project's ruff sorts and formats them (imports sort by the vendor's name)."""
    ruff = Path(sys.executable).with_name("ruff")
    for command in (["check", "--fix", "--select", "I", "--quiet"], ["format", "--quiet"]):
        subprocess.run([str(ruff), *command, *paths], cwd=root, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="the vendor's name: lower case, a Python package name (acme)")
    parser.add_argument("--protocol", default="rest", help=f"{' | '.join(PROTOCOLS)} (default rest)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    try:
        written = scaffold(args.root, args.name, args.protocol)
    except InputError as exc:
        print(f"custsync: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(f"wrote {path}" for path in written))
    print("next: make template, then make the skeleton what the vendor documents (README, 'Adding a vendor')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
