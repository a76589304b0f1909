"""A role's policies as the local stack gives them to moto: resolved against the stack with its conditions, and
in the form moto can enforce (actions always, an SQS queue where moto knows which one a call names)."""

from __future__ import annotations

from pathlib import Path

from devkit.iam import as_moto_enforces, function_roles
from devkit.stack.template import Template

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:customer-sync-local-exsalerate.fifo"


def test_sqs_keeps_its_queue_and_gains_the_batch_calls_aws_allows_by_the_same_action() -> None:
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"],
                "Resource": QUEUE,
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ]
    }
    assert as_moto_enforces(document)["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch"],
            "Resource": QUEUE,
        },
        {"Effect": "Allow", "Action": ["sqs:GetQueueUrl"], "Resource": "*"},  # moto sees no queue in GetQueueUrl
    ]


def test_what_moto_checks_against_no_resource_is_granted_on_star_without_its_condition() -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        "Resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/t",
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["exsalerate"]}},
    }
    assert as_moto_enforces({"Statement": statement})["Statement"] == [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"], "Resource": "*"}
    ]


def test_a_policy_whose_condition_is_false_is_left_out() -> None:
    template = Template(ROOT / "template.yaml", {"Stage": "local", "RoutingParameter": "", "Tracing": "PassThrough"})
    role = function_roles(template.body)["ExsalerateFunction"]
    physical = {name: {"Arn": f"arn:{name}", "Ref": f"ref:{name}"} for name in template.resources}
    policies = template.resolver(physical, "customer-sync-local").resolve(
        template.resources[role]["Properties"]["Policies"]
    )
    assert [policy["PolicyName"] for policy in policies] == ["own-resources"]

    routed = Template(ROOT / "template.yaml", {"Stage": "local", "RoutingParameter": "routing", "Tracing": "Active"})
    policies = routed.resolver(physical, "customer-sync-local").resolve(
        routed.resources[role]["Properties"]["Policies"]
    )
    assert [policy["PolicyName"] for policy in policies] == ["own-resources", "routing-parameter", "xray"]
    (routing,) = policies[1]["PolicyDocument"]["Statement"]
    assert routing["Resource"] == "arn:aws:ssm:eu-west-1:123456789012:parameter/routing"
