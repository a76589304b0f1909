"""Each function's IAM, read from ``template.yaml``.

``translated`` is the template as the SAM translator hands it to CloudFormation (what ``sam deploy`` sends), so
the static tests see every role SAM would add, not only the ones written by hand. ``grants`` lists a role's
statements with the condition each depends on. ``as_moto_enforces`` is a policy as moto can enforce it, for the
local stack, which runs each function with credentials of its own role.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.stack.template import ACCOUNT_ID, REGION

# The AWS managed policies SAM attaches to a role it makes; named here (no IAM call) so that a template that
# still leaves SAM to make a role translates, and the tests can say which one it got.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaSQSQueueExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


def translated(path: Path) -> dict[str, Any]:
    """``path`` as plain CloudFormation, as the SAM translator makes it (``samtranslator``'s ``transform``, with
    the region given rather than read from the environment, and the managed policies named here)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template
    from samtranslator.yaml_helper import yaml_parse

    body: dict[str, Any] = yaml_parse(path.read_text())
    for resource in body.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        # The translator wants code in S3, as `sam package` leaves it; where it is changes no role.
        if resource.get("Type") == "AWS::Serverless::Function":
            properties["CodeUri"] = "s3://customer-sync-code/function.zip"
        if resource.get("Type") == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = "s3://customer-sync-code/layer.zip"
    parameters = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID}
    to_py27_compatible_template(body, parameters)
    translator = Translator(MANAGED_POLICIES, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    output = translator.translate(body, parameter_values=parameters, get_managed_policy_map=lambda: MANAGED_POLICIES)
    plain: dict[str, Any] = undo_mark_unicode_str_in_template(output)
    return plain


@dataclass(frozen=True)
class Grant:
    """One statement of a role's inline policies; ``condition``: the template condition it exists under."""

    policy: str
    statement: dict[str, Any]
    condition: str | None = None

    @property
    def actions(self) -> list[str]:
        return _listed(self.statement.get("Action"))

    @property
    def resources(self) -> list[Any]:
        return _listed(self.statement.get("Resource"))


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def grants(role: Mapping[str, Any]) -> Iterator[Grant]:
    """Every statement of ``role``'s inline policies, a conditional policy's (``Fn::If``) with its condition."""
    for policy in role["Properties"].get("Policies", []):
        condition = None
        if "Fn::If" in policy:
            condition, when, _ = policy["Fn::If"]
            if not isinstance(when, dict) or "PolicyDocument" not in when:
                continue
            policy = when
        for statement in _listed(policy["PolicyDocument"]["Statement"]):
            yield Grant(str(policy["PolicyName"]), statement, condition)


def function_roles(template: Mapping[str, Any]) -> dict[str, str]:
    """Lambda function logical id -> the logical id of the role it runs with (``Role: !GetAtt <Role>.Arn``)."""
    roles = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
            role = resource["Properties"].get("Role")
            if isinstance(role, dict) and "Fn::GetAtt" in role:
                target = role["Fn::GetAtt"]
                roles[logical_id] = str(target[0] if isinstance(target, list) else target.split(".")[0])
    return roles


# The calls whose resource moto's IAM check knows: an SQS call naming its queue by URL. For every other call
# moto checks the action against the resource "*", so only a statement on "*" can allow it there.
MOTO_SCOPED_ACTIONS = frozenset(
    f"sqs:{action}"
    for action in (
        "SendMessage",
        "ReceiveMessage",
        "DeleteMessage",
        "ChangeMessageVisibility",
        "GetQueueAttributes",
        "SetQueueAttributes",
        "PurgeQueue",
    )
)
# AWS authorises SQS's batch calls by their single action ("Amazon SQS API permissions: Actions and resource
# reference": the same permissions as ...); moto checks the call's own name.
SAME_PERMISSION = {
    "sqs:SendMessage": "sqs:SendMessageBatch",
    "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch",
}


def as_moto_enforces(document: Mapping[str, Any]) -> dict[str, Any]:
    """A resolved policy document as moto can enforce it: its actions exactly (with the batch calls AWS allows
    by them), its SQS queues where moto knows the queue a call names, and no conditions. moto evaluates neither
    conditions nor other resources; the static tests hold those (tests/unit/test_security_template.py)."""
    statements = []
    for statement in _listed(document["Statement"]):
        actions = [a for action in _listed(statement["Action"]) for a in (action, SAME_PERMISSION.get(action)) if a]
        scoped = [action for action in actions if action.removesuffix("Batch") in MOTO_SCOPED_ACTIONS]
        unscoped = [action for action in actions if action not in scoped]
        if scoped:
            statements.append({"Effect": statement["Effect"], "Action": scoped, "Resource": statement["Resource"]})
        if unscoped:
            statements.append({"Effect": statement["Effect"], "Action": unscoped, "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}
