"""``custsync secrets put|check``: a stage's secrets hold only what their connector or source can use.

``put`` validates a value against what its vendor's connector declares (``VendorSecret``) or, for the webhook
secret, what each source declares (``SigningSecret``), and stores it only when it is complete and right, so an
operator cannot store a broken secret. ``check`` reads what is stored (or ``local/secrets.json`` with
``--local``) and reports each secret as configured, not configured (naming the keys it lacks) or invalid (naming
the key and why). No value is ever printed: only key names.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import ClientError

from custsync.errors import ConfigurationError
from custsync.secret_schema import SecretCheck, VendorSecret
from custsync.sources import SOURCES
from devkit.inputs import InputError, json_object, read_json_object
from devkit.routes import connector_class, template_vendors

WEBHOOK = "webhook"
HELP = """Set a stage's secrets only to values their vendor's connector or the webhook sources can use, and check
what is stored. NAME is webhook or a vendor; the secret is customer-sync/<stage>/<NAME>. A value is reported as
configured, not configured (the keys it lacks, or placeholders) or invalid (the key and why); never printed."""
EXAMPLES = """examples:
  custsync secrets put --stage dev --secret exigo --file exigo.json
  echo '{"stripe": "whsec_..."}' | custsync secrets put --stage dev --secret webhook --file -
  custsync secrets check --stage dev
  custsync secrets check --stage prod webhook exigo"""


def add_parser(commands: Any) -> None:
    """``custsync secrets put`` and ``custsync secrets check``."""
    actions = commands.add_parser("secrets", help="set and check a stage's secrets").add_subparsers(
        dest="action", required=True
    )
    put, check = (
        actions.add_parser(
            action,
            help=summary,
            description=HELP,
            epilog=EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for action, summary in (
            ("put", "store a secret, only if it holds what its vendor or the webhook sources need"),
            ("check", "report each secret: configured, not configured or invalid (never a value)"),
        )
    )
    put.add_argument("--secret", required=True, metavar="NAME", help="webhook, or a vendor (exigo, ...)")
    put.add_argument("--file", required=True, type=Path, help="the secret's JSON value; - reads standard input")
    check.add_argument("names", nargs="*", metavar="NAME", help="webhook or a vendor; default: every secret")
    check.add_argument("--local", action="store_true", help="check local/secrets.json (stage local) instead")
    for parser in (put, check):
        parser.add_argument("--stage", default="dev")


def run(root: Path, args: argparse.Namespace, out: TextIO) -> int:
    if args.action == "put":
        return put(root, args.stage, args.secret, args.file, out)
    local = root / "local" / "secrets.json" if args.local else None
    return check(root, "local" if args.local else args.stage, args.names, out, local)


def secret_id(stage: str, name: str) -> str:
    """The name template.yaml gives the secret: customer-sync/<stage>/<webhook or vendor>."""
    return f"customer-sync/{stage}/{name}"


@dataclass(frozen=True)
class Verdict:
    """One secret's state, in words that name keys and never values."""

    status: str  # configured, not configured, invalid, absent
    detail: str = ""

    @property
    def configured(self) -> bool:
        return self.status == "configured"


class Schemas:
    """What each secret of the template must hold: the webhook's sources and every vendor's connector."""

    def __init__(self, root: Path) -> None:
        self.vendors: dict[str, type[VendorSecret]] = {
            vendor: connector_class(root, folder).secret_model for vendor, folder in template_vendors(root).items()
        }

    @property
    def names(self) -> list[str]:
        return [WEBHOOK, *self.vendors]

    def known(self, names: Sequence[str]) -> list[str]:
        """``names`` (all when none), each a secret of the template; ``InputError`` naming one that is not."""
        for name in names:
            if name not in self.names:
                raise InputError(f"secret: '{name}' is not one of {', '.join(self.names)}")
        return list(names) or self.names

    def judge(self, name: str, value: Any) -> Verdict:
        if name == WEBHOOK:
            return judge_webhook(value)
        return judge_vendor(name, self.vendors[name], value)


def judge_vendor(vendor: str, model: type[VendorSecret], value: Any) -> Verdict:
    _, problems = model.check(value)
    unknown = sorted(set(value) - set(model.model_fields)) if isinstance(value, Mapping) else []
    if unknown:  # a typo leaves a key unset; the connector would never read this one
        problems = SecretCheck(problems.missing, (*problems.invalid, f"{', '.join(unknown)}: not a key {vendor} reads"))
    if problems.configured:
        credentials = set(model.credentials())
        keys = [f"{key} (credential)" if key in credentials else key for key in model.model_fields if key in value]
        return Verdict("configured", ", ".join(keys))
    return Verdict(problems.status, problems.describe())


def judge_webhook(value: Any) -> Verdict:
    if not isinstance(value, Mapping):
        return Verdict("invalid", "the secret must be a JSON object")
    configured: list[str] = []
    unset: list[str] = []
    invalid: list[str] = []
    for name, source in SOURCES.items():
        try:
            count = len(source.secret.values(value.get(name), name))
        except ConfigurationError:
            invalid.append(f"{name}: each value must be {source.secret.description}")
            continue
        (configured if count else unset).append(f"{name} ({count} secrets)" if count > 1 else name)
    unknown = sorted(set(value) - set(SOURCES))
    invalid.extend(f"{name}: not a webhook source ({', '.join(SOURCES)})" for name in unknown)
    if invalid:
        return Verdict("invalid", "; ".join(invalid))
    if not configured:
        return Verdict("not configured", f"no source has a signing secret ({', '.join(SOURCES)})")
    return Verdict("configured", ", ".join(configured) + (f"; not configured: {', '.join(unset)}" if unset else ""))


def stored_value(secretsmanager: Any, secret: str) -> Any:
    """The stored value parsed, or the ``Verdict`` that it cannot be read as a secret at all."""
    try:
        text = secretsmanager.get_secret_value(SecretId=secret).get("SecretString")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return Verdict("absent", "no such secret in Secrets Manager: is the stage deployed?")
        raise
    try:
        return json.loads(text or "")
    except json.JSONDecodeError:
        return Verdict("invalid", "the secret is not JSON")


def check(root: Path, stage: str, names: Sequence[str], out: TextIO, local_file: Path | None = None) -> int:
    """Report each secret; 0 when every one is configured, 1 otherwise."""
    schemas = Schemas(root)
    wanted = schemas.known(names)
    if local_file is not None:
        local = read_json_object(local_file, "mapping secret names to their values")
        values = {name: local.get(secret_id(stage, name), Verdict("absent", f"not in {local_file}")) for name in wanted}
    else:
        secretsmanager = boto3.client("secretsmanager")
        values = {name: stored_value(secretsmanager, secret_id(stage, name)) for name in wanted}
    verdicts = {name: v if isinstance(v, Verdict) else schemas.judge(name, v) for name, v in values.items()}
    width = max(len(secret_id(stage, name)) for name in wanted)
    for name, verdict in verdicts.items():
        out.write(f"{secret_id(stage, name):<{width}}  {verdict.status}: {verdict.detail}\n")
    return 0 if all(verdict.configured for verdict in verdicts.values()) else 1


def put(root: Path, stage: str, name: str, source: Path, out: TextIO) -> int:
    """Store the secret in ``source`` (``-``: standard input) as ``name``'s, only if it is complete and right."""
    schemas = Schemas(root)
    schemas.known([name])
    value = _read_value(source)
    verdict = schemas.judge(name, value)
    if not verdict.configured:
        raise InputError(f"{source}: {name} secret is {verdict.status}: {verdict.detail}; nothing stored")
    secret = secret_id(stage, name)
    secretsmanager = boto3.client("secretsmanager")
    try:
        secretsmanager.put_secret_value(SecretId=secret, SecretString=json.dumps(value))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise InputError(f"{secret}: no such secret; deploy the stage first (the template creates it)") from exc
        raise
    out.write(f"stored {secret}: {verdict.detail}\n")
    return 0


def _read_value(source: Path) -> dict[str, Any]:
    if str(source) == "-":  # from a pipe: the value need never be in a file
        return json_object(sys.stdin.read(), "-", "(the secret's value)")
    return read_json_object(source, "(the secret's value)")
