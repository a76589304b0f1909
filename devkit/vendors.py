"""Each vendor declared once: ``vendors.yaml`` lists them, ``functions/<vendor>/vendor.yaml`` says what is
its own, and ``template.yaml``'s per-vendor parts are written from them (``make template``).

The template stays plain CloudFormation (``sam validate --lint``, ``sam build`` and the local stack read it as
it is); the parts between ``# >>> vendors: <part>`` and ``# <<< vendors: <part>`` are generated, and
``tests/unit/test_template.py`` fails when they are not what this module would write.

    python -m devkit.vendors          write template.yaml
    python -m devkit.vendors --check  exit 1 if it is not current
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from custsync.secret_schema import VendorSecret
from devkit import monitoring

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^(?P<indent> *)# >>> vendors: (?P<part>[\w-]+).*$")

PARAMETER = """\
{Title}MaxConcurrency:
  Type: Number
  Default: {max_concurrency}
  MinValue: 2
  MaxValue: 1000
  Description: >-
    Most {Title} function instances the queue invokes at once (EventSourceScaling MaximumConcurrency); the
    default is what {Title}'s max_in_flight (functions/{name}/vendor.yaml) keeps busy.
"""
# Every function's role: trusted by Lambda alone; writes only to its own log group; reads the routing parameter
# when one is set; sends X-Ray segments only when Tracing is Active (X-Ray's actions take no resource).
ROLE = """\
{Title}LogGroup:
  Type: AWS::Logs::LogGroup
  Properties:
    LogGroupName: !Sub /aws/lambda/customer-sync-${{Stage}}-{name}
    RetentionInDays: !Ref LogRetentionDays

{Title}Role:
  Type: AWS::IAM::Role
  Properties:
    Description: !Sub customer-sync ${{Stage}} {name} function
    AssumeRolePolicyDocument:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal:
            Service: lambda.amazonaws.com
          Action: sts:AssumeRole
    Policies:
      - PolicyName: own-resources
        PolicyDocument:
          Version: "2012-10-17"
          Statement:
{statements}            - Sid: OwnLogGroup
              Effect: Allow
              Action: [logs:CreateLogStream, logs:PutLogEvents]
              Resource: !GetAtt {Title}LogGroup.Arn
      - !If
        - RoutedBySsm
        - PolicyName: routing-parameter
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: RoutingParameter
                Effect: Allow
                Action: ssm:GetParameter
                Resource: !Sub >-
                  arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/${{RoutingParameter}}
        - !Ref AWS::NoValue
      - !If
        - Traced
        - PolicyName: xray
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: TraceSegments
                Effect: Allow
                Action: [xray:PutTraceSegments, xray:PutTelemetryRecords]
                Resource: "*"
        - !Ref AWS::NoValue

"""
# A vendor function's own resources: its queue (what Lambda's event source mapping and the function do to it), its
# DLQ (park; erasure reads and deletes parked messages), its secret, and its vendor's partition of the state table.
VENDOR_STATEMENTS = """\
- Sid: OwnQueue
  Effect: Allow
  Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility, sqs:GetQueueAttributes, sqs:GetQueueUrl]
  Resource: !GetAtt {Title}Queue.Arn
- Sid: OwnDeadLetterQueue
  Effect: Allow
  Action:
    - sqs:SendMessage
    - sqs:ReceiveMessage
    - sqs:DeleteMessage
    - sqs:ChangeMessageVisibility
    - sqs:GetQueueAttributes
    - sqs:GetQueueUrl
  Resource: !GetAtt {Title}DLQ.Arn
- Sid: OwnSecret
  Effect: Allow
  Action: secretsmanager:GetSecretValue
  Resource: !Ref {Title}Secret
- Sid: OwnPartitionOfTheStateTable
  Effect: Allow
  Action: [dynamodb:GetItem, dynamodb:UpdateItem]
  Resource: !GetAtt SyncStateTable.Arn
  Condition:
    ForAllValues:StringEquals:
      dynamodb:LeadingKeys: [{name}]
"""
# The webhook: queue changes for the vendors, read its signing secrets. Nothing on the state table.
WEBHOOK_STATEMENTS = """\
- Sid: VendorQueues
  Effect: Allow
  Action: sqs:SendMessage
  Resource:
{queue_arns}- Sid: OwnSecret
  Effect: Allow
  Action: secretsmanager:GetSecretValue
  Resource: !Ref WebhookSecret
"""
RESOURCES = """\
# ---- {Title} {rule}
{Title}Secret:
  Type: AWS::SecretsManager::Secret
  DeletionPolicy: Retain
  UpdateReplacePolicy: Retain
  Properties:
    Name: !Sub customer-sync/${{Stage}}/{name}
    Description: {secret}
    # Empty of credentials and a constant: CloudFormation never writes over what the operator set.
    SecretString: '{{}}'

{Title}DLQ:
  Type: AWS::SQS::Queue
  DeletionPolicy: Retain
  UpdateReplacePolicy: Retain
  Properties:
    QueueName: !Sub customer-sync-${{Stage}}-{name}-dlq.fifo
    FifoQueue: true
    MessageRetentionPeriod: 1209600
    SqsManagedSseEnabled: true

{Title}Queue:
  Type: AWS::SQS::Queue
  Properties:
    QueueName: !Sub customer-sync-${{Stage}}-{name}.fifo
    FifoQueue: true
    ContentBasedDeduplication: false
    VisibilityTimeout: 180
    SqsManagedSseEnabled: true
    RedrivePolicy:
      deadLetterTargetArn: !GetAtt {Title}DLQ.Arn
      # A backstop only: the function parks a change with its reason first (MAX_RECEIVES, default 40).
      maxReceiveCount: 50

{role}{Title}Function:
  Type: AWS::Serverless::Function
  Metadata:
    BuildMethod: makefile
  Properties:
    FunctionName: !Sub customer-sync-${{Stage}}-{name}
    Description: {description}
    CodeUri: functions/{name}
    Handler: {name}.app.lambda_handler
    Role: !GetAtt {Title}Role.Arn
    Environment:
      Variables:
        VENDOR: {name}
        STATE_TABLE: !Ref SyncStateTable
        VENDOR_SECRET_NAME: !Ref {Title}Secret
        DLQ_URL: !Ref {Title}DLQ
        EVENT_SOURCE_MAX_CONCURRENCY: !If [ProvisionedPolling, "", !Ref {Title}MaxConcurrency]
        EVENT_SOURCE_MAX_POLLERS: !If [ProvisionedPolling, !Ref ProvisionedMaximumPollers, ""]
{environment}    Events:
      Queue:
        Type: SQS
        Properties:
          Queue: !GetAtt {Title}Queue.Arn
          BatchSize: 10
          FunctionResponseTypes: [ReportBatchItemFailures]
          ScalingConfig: !If
            - ProvisionedPolling
            - !Ref AWS::NoValue
            - MaximumConcurrency: !Ref {Title}MaxConcurrency
          ProvisionedPollerConfig: !If
            - ProvisionedPolling
            - MinimumPollers: !Ref ProvisionedMinimumPollers
              MaximumPollers: !Ref ProvisionedMaximumPollers
            - !Ref AWS::NoValue
      Api:
        Type: Api
        Properties:
          RestApiId: !Ref SyncApi
          Path: /vendors/{name}/customers/{{key}}
          Method: PUT
          Auth:
            Authorizer: AWS_IAM

"""
OUTPUTS = """\
{Title}QueueUrl:
  Value: !Ref {Title}Queue
{Title}DLQUrl:
  Value: !Ref {Title}DLQ
"""


def vendor_names(root: Path = ROOT) -> list[str]:
    """The vendors, in ``vendors.yaml``'s order."""
    names = yaml.safe_load((root / "vendors.yaml").read_text())["vendors"]
    return [str(name) for name in names]


def manifest(root: Path, name: str) -> dict[str, Any]:
    """What is the vendor's own in the template: its function's description, limits and settings."""
    path = root / "functions" / name / "vendor.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


# Settings every vendor function gets unless its vendor.yaml's ``environment`` says otherwise.
DEFAULT_ENVIRONMENT = {"MAX_ATTEMPTS": "5"}
# A vendor's limits for all its containers together (vendor.yaml's ``limits``), when its vendor.yaml names none.
DEFAULT_LIMITS = {"requests_per_second": 25, "max_in_flight": 50}
LIMIT_SETTINGS = {"requests_per_second": "REQUESTS_PER_SECOND", "max_in_flight": "MAX_IN_FLIGHT"}
# What the template wires itself; a vendor.yaml cannot set these.
WIRED = frozenset(
    {"VENDOR", "STATE_TABLE", "VENDOR_SECRET_NAME", "DLQ_URL"}
    | {"EVENT_SOURCE_MAX_CONCURRENCY", "EVENT_SOURCE_MAX_POLLERS", *LIMIT_SETTINGS.values()}
)
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
GROUP_CONCURRENCY = 10  # custsync.config.VendorSettings.group_concurrency's default


def environment(name: str, own: dict[str, Any]) -> dict[str, str]:
    """The function's own settings: the defaults, then ``environment`` in its vendor.yaml (for example
    ``CALL_TIMEOUT_SECONDS: 20``). The values are checked where they are read, at the function's cold start."""
    given = own.get("environment") or {}
    if not isinstance(given, dict):
        raise ValueError(f"functions/{name}/vendor.yaml: environment must be a mapping of setting: value")
    for key, value in given.items():
        if not isinstance(key, str) or not SETTING_NAME.match(key):
            raise ValueError(f"functions/{name}/vendor.yaml: environment: {key!r} is not a setting name (A-Z, 0-9, _)")
        if key in WIRED:
            raise ValueError(f"functions/{name}/vendor.yaml: environment: {key} is wired by the template")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"functions/{name}/vendor.yaml: environment: {key} must be a string or a number")
    return {**DEFAULT_ENVIRONMENT, **{key: str(value) for key, value in given.items()}}


def limits(name: str, own: dict[str, Any]) -> dict[str, int]:
    """The vendor's ``limits``: requests a second and calls in flight, for all its containers together (every
    HTTP request counts). Where its docs publish none they are settings, ``DEFAULT_LIMITS`` unless given."""
    given = own.get("limits") or {}
    if not isinstance(given, dict) or set(given) - set(DEFAULT_LIMITS):
        raise ValueError(f"functions/{name}/vendor.yaml: limits takes {' and '.join(DEFAULT_LIMITS)}")
    for key, value in given.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"functions/{name}/vendor.yaml: limits: {key} must be a whole number of at least 1")
    return {**DEFAULT_LIMITS, **given}


def max_concurrency(max_in_flight: int, group_concurrency: int = GROUP_CONCURRENCY) -> int:
    """The instances that keep ``max_in_flight`` calls going, each making ``group_concurrency`` at once: the
    default of the vendor's MaxConcurrency parameter, within what Lambda accepts (2 to 1,000)."""
    return min(max(math.ceil(max_in_flight / group_concurrency), 2), 1000)


def secret_description(root: Path, name: str) -> str:
    """The secret's description in the template, from its connector's model (declared once): its keys, with the
    values of those that have a choice: ``Everlytic credentials: {"base_url", "api": "rest|xmlrpc", ...}``."""
    from devkit.routes import connector_class

    model = connector_class(root, name).secret_model
    choices = model.choices()
    keys = [f'"{key}": "{"|".join(choices[key])}"' if key in choices else f'"{key}"' for key in model.model_fields]
    return f"{name.capitalize()} credentials: {{{', '.join(keys)}}}"


def secrets_table(root: Path = ROOT) -> str:
    """README's table of the vendors' secrets, a row a vendor, from each connector's secret model: required keys in
    bold, a choice's values and default, each key's description, a URL's example."""
    from devkit.routes import connector_class

    rows = ["| vendor secret `customer-sync/<stage>/…` | keys |\n", "|---|---|\n"]
    for name in vendor_names(root):
        model = connector_class(root, name).secret_model
        choices = model.choices()
        keys = []
        for key, field in model.model_fields.items():
            said = [f"**`{key}`**" if field.is_required() else f"`{key}`"]
            if field.description and field.description != VendorSecret.model_fields["base_url"].description:
                said.append(field.description.rstrip("."))
            if key in choices:
                said.append(" or ".join(f"`{value}`" for value in choices[key]) + f", default `{field.default}`")
            if (
                key in model.urls()
                and field.examples
                and field.examples != VendorSecret.model_fields["base_url"].examples
            ):
                said.append(f"e.g. `{field.examples[0]}`")
            keys.append(said[0] + (f" ({'; '.join(said[1:])})" if len(said) > 1 else ""))
        rows.append(f"| `{name}` | {', '.join(keys)} |\n")
    return "".join(rows)


README_MARKER = re.compile(r"^<!-- >>> vendors: (?P<part>[\w-]+) .*-->$")


def render_readme(root: Path = ROOT) -> str:
    """README.md with its generated parts (between ``<!-- >>> vendors: <part> ... -->`` and ``<!-- <<< vendors:
    <part> -->``) written anew."""
    generated = {"secrets": secrets_table(root)}
    out: list[str] = []
    skipping = False
    for line in (root / "README.md").read_text().splitlines(keepends=True):
        if skipping and not line.startswith("<!-- <<< vendors:"):
            continue
        skipping = False
        out.append(line)
        marker = README_MARKER.match(line.rstrip("\n"))
        if marker:
            out.append(generated[marker["part"]])
            skipping = True
    return "".join(out)


def _fields(root: Path, name: str) -> dict[str, str]:
    own = manifest(root, name)
    title = name.capitalize()
    vendor_limits = limits(name, own)
    settings = {
        **environment(name, own),
        **{LIMIT_SETTINGS[key]: str(value) for key, value in vendor_limits.items()},
    }
    fields = {
        "name": name,
        "Title": title,
        "rule": "-" * (92 - len(title)),
        "description": own["description"],
        "secret": _quoted(secret_description(root, name)),
        "environment": "".join(f"        {key}: {json.dumps(value)}\n" for key, value in settings.items()),
        "max_concurrency": str(
            max_concurrency(vendor_limits["max_in_flight"], int(settings.get("GROUP_CONCURRENCY", GROUP_CONCURRENCY)))
        ),
    }
    return {**fields, "role": role(name, VENDOR_STATEMENTS.format(**fields))}


def role(name: str, statements: str) -> str:
    """A function's log group and role: ``statements`` (its own resources) and what every function gets."""
    return ROLE.format(name=name, Title=name.capitalize(), statements=_indented(statements, 12))


def _indented(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(keepends=True))


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parts(root: Path = ROOT) -> dict[str, str]:
    """Each generated part of the template, unindented."""
    vendors = [_fields(root, name) for name in vendor_names(root)]
    queues = ", ".join(f'"{v["name"]}": "${{{v["Title"]}Queue}}"' for v in vendors)
    queue_arns = "".join(f"    - !GetAtt {v['Title']}Queue.Arn\n" for v in vendors)
    return {
        "parameters": "".join(PARAMETER.format(**v) for v in vendors),
        "webhook-queues": f"VENDOR_QUEUES: !Sub >-\n  {{{queues}}}\n",
        "webhook-role": role("webhook", WEBHOOK_STATEMENTS.format(queue_arns=queue_arns)),
        "resources": "".join(RESOURCES.format(**v) for v in vendors),
        "outputs": "".join(OUTPUTS.format(**v) for v in vendors),
        **monitoring.parts(vendor_names(root)),
    }


def render(root: Path = ROOT) -> str:
    """``template.yaml`` with every generated part written anew."""
    generated = parts(root)
    lines = (root / "template.yaml").read_text().splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    for line in lines:
        if skipping:
            if line.strip().startswith("# <<< vendors:"):
                out.append(line)
                skipping = False
            continue
        out.append(line)
        marker = MARKER.match(line.rstrip("\n"))
        if marker:
            indent = marker["indent"]
            body = generated[marker["part"]]
            out.extend(f"{indent}{row}" if row.strip() else "\n" for row in body.splitlines(keepends=True))
            skipping = True
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if template.yaml is not current")
    args = parser.parse_args(argv)
    current = (ROOT / "template.yaml").read_text()
    rendered = render(ROOT)
    if args.check:
        if rendered != current or render_readme(ROOT) != (ROOT / "README.md").read_text():
            print("template.yaml or README.md is not what vendors.yaml says: run `make template`", file=sys.stderr)
            return 1
        return 0
    (ROOT / "template.yaml").write_text(rendered)
    (ROOT / "README.md").write_text(render_readme(ROOT))
    print(json.dumps({"vendors": vendor_names(ROOT)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
