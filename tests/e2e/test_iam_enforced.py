"""The local stack enforces IAM: moto checks every call against the caller's policies, and each function under the
emulator holds only its own role's credentials, with the role's policies from template.yaml.

moto checks actions, and an SQS call's queue; the resources and conditions of everything else are held by the
static tests (tests/unit/test_security_template.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devkit.stack.identity import Credentials
from devkit.stack.pump import deliver
from devkit.stack.template import REGION
from flow import ALL_VENDORS, VENDOR_FUNCTIONS, change, queue

pytestmark = pytest.mark.e2e


def client(stack: Any, service: str, credentials: Credentials) -> Any:
    arguments = {"region_name": REGION, "endpoint_url": stack.endpoint_url, **credentials.client_arguments()}
    return boto3.client(service, **arguments)  # type: ignore[call-overload]  # any of several services


def refused(call: Callable[[], Any]) -> str:
    """The error AWS (moto) answers ``call`` with; fails if it is allowed."""
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value)


def test_a_caller_moto_does_not_know_is_refused(stack: Any) -> None:
    stranger = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert "InvalidClientTokenId" in refused(lambda: client(stack, "sqs", stranger).list_queues())


def test_each_function_runs_as_its_own_role_not_as_the_stack(stack: Any) -> None:
    functions = [*VENDOR_FUNCTIONS.values(), "WebhookFunction"]
    keys = {stack.emulated_environment(function)["AWS_ACCESS_KEY_ID"] for function in functions}
    assert len(keys) == len(functions)
    assert stack.administrator.access_key_id not in keys
    for function in functions:
        environment = stack.emulated_environment(function)
        credentials = Credentials(
            environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"], environment["AWS_SESSION_TOKEN"]
        )
        caller = client(stack, "sts", credentials).get_caller_identity()["Arn"]
        role = stack.iam.roles[function]
        assert caller.endswith(f":assumed-role/{stack.iam.role_name(role)}/{function}")


@pytest.mark.parametrize("vendor", ALL_VENDORS)
def test_a_vendor_function_cannot_read_another_vendors_queues(stack: Any, vendor: str) -> None:
    function = VENDOR_FUNCTIONS[vendor]
    sqs = stack.sqs_as(function)
    own_queue, _ = stack.queue_of(function)
    assert sqs.receive_message(QueueUrl=own_queue).get("Messages", []) == []
    assert sqs.receive_message(QueueUrl=stack.dlq_of(function)).get("Messages", []) == []
    for other, other_function in VENDOR_FUNCTIONS.items():
        if other == vendor:
            continue
        other_queue, _ = stack.queue_of(other_function)
        other_dlq = stack.dlq_of(other_function)
        assert "AccessDenied" in refused(lambda: sqs.receive_message(QueueUrl=other_queue))  # noqa: B023 - called now
        assert "AccessDenied" in refused(lambda: sqs.purge_queue(QueueUrl=other_dlq))  # noqa: B023 - called now


def test_a_vendor_function_cannot_scan_or_delete_from_the_state_table(stack: Any) -> None:
    dynamodb = client(stack, "dynamodb", stack.credentials("ExsalerateFunction"))
    table = stack.physical["SyncStateTable"]["Ref"]
    assert "AccessDenied" in refused(lambda: dynamodb.scan(TableName=table))
    key = {"vendor": {"S": "exsalerate"}, "customer_key": {"S": "7001"}}
    assert "AccessDenied" in refused(lambda: dynamodb.delete_item(TableName=table, Key=key))
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key)


def test_the_webhook_can_queue_changes_but_not_read_them_nor_the_state_table(stack: Any) -> None:
    sqs = stack.sqs_as("WebhookFunction")
    url, _ = stack.queue_of("ExsalerateFunction")
    sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId="d")
    assert "AccessDenied" in refused(lambda: sqs.receive_message(QueueUrl=url))
    assert "AccessDenied" in refused(
        lambda: sqs.send_message(QueueUrl=stack.dlq_of("ExsalerateFunction"), MessageBody="x")
    )
    dynamodb = client(stack, "dynamodb", stack.credentials("WebhookFunction"))
    key = {"vendor": {"S": "exsalerate"}, "customer_key": {"S": "7001"}}
    table = stack.physical["SyncStateTable"]["Ref"]
    assert "AccessDenied" in refused(lambda: dynamodb.get_item(TableName=table, Key=key))


def without_action(stack: Any, function: str, action: str) -> dict[str, Any]:
    """Take ``action`` out of the function's role in moto; the policy as it was."""
    iam = client(stack, "iam", stack.administrator)
    role = stack.iam.role_name(stack.iam.roles[function])
    before: dict[str, Any] = iam.get_role_policy(RoleName=role, PolicyName="own-resources")["PolicyDocument"]
    after = json.loads(json.dumps(before))
    for statement in after["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    after["Statement"] = [s for s in after["Statement"] if s["Action"]]
    assert after != before, f"{function}'s role has no {action}"
    iam.put_role_policy(RoleName=role, PolicyName="own-resources", PolicyDocument=json.dumps(after))
    return before


def test_a_function_whose_role_lacks_an_action_it_calls_fails_under_the_emulator(stack: Any) -> None:
    function = "ExsalerateFunction"
    records = stack.simulators["exsalerate"].records
    queue(stack, function, change("iam-1", "2026-11-20T09:00:00Z", {"key": "IAM1", "company": "Enforced AB"}))

    whole_role = without_action(stack, function, "dynamodb:UpdateItem")
    url, arn = stack.queue_of(function)
    once = deliver(stack.sqs_as(function), url, arn, lambda event: stack.invoke(function, event), max_batches=1)
    assert (once.delivered, once.failed) == (1, 1)
    assert records == {}
    assert "AccessDenied" in stack.logs()
    assert f"assumed-role/{stack.iam.role_name(stack.iam.roles[function])}/{function}" in stack.logs()

    client(stack, "iam", stack.administrator).put_role_policy(
        RoleName=stack.iam.role_name(stack.iam.roles[function]),
        PolicyName="own-resources",
        PolicyDocument=json.dumps(whole_role),
    )
    delivery = stack.pump(function)
    assert (delivery.delivered, delivery.failed) == (1, 0)
    assert [record["CustomerName"] for record in records.values()] == ["Enforced AB"]
