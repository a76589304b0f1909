"""What a deployment holds, read from template.yaml as the SAM translator hands it to CloudFormation: every role's
statements (each function only its own resources, nothing on "*" that has a resource, no managed policy), parliament
on them, no usable default secret, what survives the stack, encryption, log retention and the front door's limits.

The facts (which vendors, which queue feeds which function, which secret is whose) are read from the template, not
listed here. moto cannot check resources or conditions; these tests do (tests/e2e/test_iam_enforced.py checks the
actions, with moto enforcing each function's role).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from parliament import analyze_policy_string
from parliament.statement import get_privilege_info

from devkit.iam import Grant, function_roles, grants, translated
from devkit.routes import connector_class
from devkit.stack.template import ACCOUNT_ID, REGION, Resolver, Template
from devkit.vendors import vendor_names

ROOT = Path(__file__).resolve().parents[2]
RAW = Template(ROOT / "template.yaml")
CFN = translated(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = CFN["Resources"]
VENDORS = RAW.vendor_functions()  # vendor -> function logical id
FUNCTIONS = {k: r for k, r in RESOURCES.items() if r["Type"] == "AWS::Lambda::Function"}
ROLES = {k: r for k, r in RESOURCES.items() if r["Type"] == "AWS::IAM::Role"}
FUNCTION_ROLES = function_roles(CFN)
WIDE_DYNAMODB = {"dynamodb:Scan", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def environment(function: str) -> dict[str, Any]:
    variables: dict[str, Any] = FUNCTIONS[function]["Properties"]["Environment"]["Variables"]
    return variables


def of_type(resource_type: str) -> dict[str, Any]:
    return {k: r for k, r in RESOURCES.items() if r["Type"] == resource_type}


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def own_queue(function: str) -> str:
    (queue,) = [
        event["Properties"]["Queue"]["Fn::GetAtt"][0]
        for event in RAW.resources[function]["Properties"]["Events"].values()
        if event["Type"] == "SQS"
    ]
    return str(queue)


def dead_letter_queue(queue: str) -> str:
    return str(RESOURCES[queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0])


def webhook_function() -> str:
    (webhook,) = [name for name in FUNCTIONS if "WEBHOOK_SECRET_NAME" in environment(name)]
    return webhook


def role_grants(function: str) -> list[Grant]:
    return list(grants(ROLES[FUNCTION_ROLES[function]]))


def by_service(found: list[Grant]) -> dict[str, list[Grant]]:
    services: dict[str, list[Grant]] = defaultdict(list)
    for grant in found:
        for service in {action.split(":")[0] for action in grant.actions}:
            services[service].append(grant)
    return services


def actions_on(found: list[Grant], service: str) -> dict[str, set[str]]:
    """resource (as JSON) -> the actions of ``service`` granted on it."""
    granted: dict[str, set[str]] = defaultdict(set)
    for grant in found:
        for resource in grant.resources:
            granted[key(resource)].update(a for a in grant.actions if a.startswith(f"{service}:"))
    return {resource: actions for resource, actions in granted.items() if actions}


def key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# -- secrets: no usable default ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", sorted(of_type("AWS::SecretsManager::Secret")))
def test_every_secret_is_created_empty_of_credentials_and_a_constant(secret: str) -> None:
    properties = RESOURCES[secret]["Properties"]
    assert "GenerateSecretString" not in properties
    assert properties["SecretString"] == "{}", "a constant, so an update never writes over what the operator set"


def test_no_placeholder_is_left_to_become_a_default() -> None:
    assert "set-me" not in (ROOT / "template.yaml").read_text()
    for name in vendor_names(ROOT):
        manifest = yaml.safe_load((ROOT / "functions" / name / "vendor.yaml").read_text())
        assert "secret_placeholder" not in manifest, name
        described = RESOURCES[f"{name.capitalize()}Secret"]["Properties"]["Description"]
        keys = connector_class(ROOT, name).secret_model.model_fields
        assert all(f'"{key}"' in described for key in keys), f"{name}: its secret's description names its keys"


def retained() -> Iterator[str]:
    yield from of_type("AWS::SecretsManager::Secret")
    yield from of_type("AWS::DynamoDB::Table")
    yield from (dead_letter_queue(own_queue(function)) for function in VENDORS.values())


@pytest.mark.parametrize("resource", sorted(retained()))
def test_secrets_dead_letter_queues_and_the_table_outlive_the_stack(resource: str) -> None:
    assert RESOURCES[resource].get("DeletionPolicy") == "Retain"
    assert RESOURCES[resource].get("UpdateReplacePolicy") == "Retain"


@pytest.mark.parametrize("queue", sorted(of_type("AWS::SQS::Queue")))
def test_every_queue_states_its_encryption(queue: str) -> None:
    assert RESOURCES[queue]["Properties"].get("SqsManagedSseEnabled") is True


# -- roles -------------------------------------------------------------------------------------------------------------


def test_every_function_runs_with_a_role_of_its_own() -> None:
    assert sorted(FUNCTION_ROLES) == sorted(FUNCTIONS), "a function without Role gets one SAM makes"
    assert len(set(FUNCTION_ROLES.values())) == len(FUNCTION_ROLES)
    for role in FUNCTION_ROLES.values():
        (trust,) = ROLES[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        lambda_only = {"Service": "lambda.amazonaws.com"}
        assert trust == {"Effect": "Allow", "Principal": lambda_only, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_role_holds_a_managed_policy(role: str) -> None:
    """SAM attaches AWSLambdaSQSQueueExecutionRole (sqs:ReceiveMessage, DeleteMessage... on "*") to a role it makes
    for an SQS event; no role here is SAM's, and none holds any managed policy."""
    assert ROLES[role]["Properties"].get("ManagedPolicyArns", []) == []


def takes_a_resource(action: str) -> bool:
    """Whether IAM scopes ``action`` to resources (parliament's copy of AWS's service authorization reference)."""
    service, name = action.split(":")
    return any(kind["resource_type"] for kind in get_privilege_info(service, name)["resource_types"])


@pytest.mark.parametrize("role", sorted(ROLES))
def test_nothing_that_takes_a_resource_is_granted_on_star(role: str) -> None:
    for grant in grants(ROLES[role]):
        assert grant.statement["Effect"] == "Allow"
        assert not any("*" in action for action in grant.actions), grant
        if "*" in grant.resources:
            assert grant.resources == ["*"]
            assert not any(takes_a_resource(action) for action in grant.actions), grant


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_role_can_scan_query_or_delete_the_state_table(role: str) -> None:
    for grant in by_service(list(grants(ROLES[role])))["dynamodb"]:
        assert not WIDE_DYNAMODB & set(grant.actions), grant
        assert "dynamodb:LeadingKeys" in key(grant.statement.get("Condition")), grant


def own_log_group(function: str, found: list[Grant]) -> None:
    """The function writes only to its own log group, declared, named as Lambda names it, with the retention."""
    (log_group,) = [
        name
        for name, resource in of_type("AWS::Logs::LogGroup").items()
        if resource["Properties"]["LogGroupName"]
        == {"Fn::Sub": "/aws/lambda/" + FUNCTIONS[function]["Properties"]["FunctionName"]["Fn::Sub"]}
    ]
    assert RESOURCES[log_group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert actions_on(found, "logs") == {key(get_att(log_group)): {"logs:CreateLogStream", "logs:PutLogEvents"}}


def conditional_services(found: list[Grant]) -> None:
    """What every function gets under a condition only: the routing parameter, X-Ray."""
    services = by_service(found)
    for grant in services.pop("ssm", []):
        assert grant.condition == "RoutedBySsm"
        assert grant.actions == ["ssm:GetParameter"]
        (resource,) = grant.resources
        assert resource["Fn::Sub"].endswith(":parameter/${RoutingParameter}")
    for grant in services.pop("xray", []):
        assert grant.condition == "Traced"
        assert set(grant.actions) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    for grant in [g for service in services.values() for g in service]:
        assert grant.condition is None, grant


# What Lambda's event source mapping and the function do to its queue.
VENDOR_QUEUE_ACTIONS = {
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "GetQueueUrl",
}


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_vendor_function_touches_only_its_own_queues_secret_and_partition(vendor: str) -> None:
    function = VENDORS[vendor]
    found = role_grants(function)
    assert set(by_service(found)) <= {"sqs", "secretsmanager", "dynamodb", "logs", "ssm", "xray"}

    queue = own_queue(function)
    dlq = dead_letter_queue(queue)
    assert environment(function)["DLQ_URL"] == {"Ref": dlq}
    assert actions_on(found, "sqs") == {
        key(get_att(queue)): {f"sqs:{action}" for action in VENDOR_QUEUE_ACTIONS},
        key(get_att(dlq)): {f"sqs:{action}" for action in VENDOR_QUEUE_ACTIONS | {"SendMessage"}},
    }
    assert actions_on(found, "secretsmanager") == {
        key(environment(function)["VENDOR_SECRET_NAME"]): {"secretsmanager:GetSecretValue"}
    }

    table = environment(function)["STATE_TABLE"]["Ref"]
    (dynamodb,) = by_service(found)["dynamodb"]
    assert (
        {"dynamodb:GetItem", "dynamodb:UpdateItem"}
        <= set(dynamodb.actions)
        <= {
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:PutItem",
        }
    )
    assert dynamodb.resources == [get_att(table)], "the table itself: no index"
    assert dynamodb.statement["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [vendor]}}

    own_log_group(function, found)
    conditional_services(found)


def test_the_webhook_sends_to_the_vendor_queues_and_reads_its_secret_only() -> None:
    function = webhook_function()
    found = role_grants(function)
    assert set(by_service(found)) <= {"sqs", "secretsmanager", "logs", "ssm", "xray"}, "nothing on DynamoDB"
    vendor_queues = {own_queue(f) for f in VENDORS.values()}
    queue_map = environment(function)["VENDOR_QUEUES"]["Fn::Sub"]
    assert set(re.findall(r"\$\{(\w+)\}", queue_map)) == vendor_queues
    sqs = actions_on(found, "sqs")
    assert set(sqs) == {key(get_att(queue)) for queue in vendor_queues}
    assert all(actions == {"sqs:SendMessage"} for actions in sqs.values())
    assert actions_on(found, "secretsmanager") == {
        key(environment(function)["WEBHOOK_SECRET_NAME"]): {"secretsmanager:GetSecretValue"}
    }
    own_log_group(function, found)
    conditional_services(found)


# -- parliament on the policies as deployed ----------------------------------------------------------------------------


def deployed_arns() -> Resolver:
    """Intrinsics resolved to ARNs shaped as AWS makes them, with the routing parameter set and stage ``dev``."""
    parameters = {**RAW.parameters, "Stage": "dev", "RoutingParameter": "customer-sync/routing"}
    names = RAW.resolver({}, "customer-sync-dev")
    names.parameters = parameters
    physical: dict[str, dict[str, str]] = {}
    arn = f"{REGION}:{ACCOUNT_ID}"
    for logical, resource in RAW.resources.items():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::SQS::Queue":
            name = names.resolve(properties["QueueName"])
            physical[logical] = {"Arn": f"arn:aws:sqs:{arn}:{name}", "QueueName": name}
        elif resource["Type"] == "AWS::SecretsManager::Secret":
            name = names.resolve(properties["Name"])
            physical[logical] = {"Ref": f"arn:aws:secretsmanager:{arn}:secret:{name}-AbCdEf"}
        elif resource["Type"] == "AWS::DynamoDB::Table":
            physical[logical] = {"Arn": f"arn:aws:dynamodb:{arn}:table/customer-sync-dev-{logical}-1A2B3C4D"}
        elif resource["Type"] == "AWS::Logs::LogGroup":
            physical[logical] = {"Arn": f"arn:aws:logs:{arn}:log-group:{names.resolve(properties['LogGroupName'])}:*"}
    return Resolver(parameters, physical, "customer-sync-dev", RAW.body.get("Conditions"))


@pytest.mark.parametrize("role", sorted(ROLES))
def test_parliament_finds_nothing_in_a_role(role: str) -> None:
    resolver = deployed_arns()
    statements = [resolver.resolve(grant.statement) for grant in grants(ROLES[role])]
    assert statements
    policy = analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    assert [(f.issue, f.detail, f.location) for f in policy.findings] == []


# -- log groups and the front door -------------------------------------------------------------------------------------


def test_log_retention_is_a_parameter_cloudwatch_accepts() -> None:
    parameter = CFN["Parameters"]["LogRetentionDays"]
    assert parameter["Type"] == "Number"
    assert parameter["Default"] in parameter["AllowedValues"]
    for log_group in of_type("AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_api_has_no_stage_but_the_throttled_logged_one() -> None:
    """Without OpenApiVersion, SAM's deployment also makes a stage named "Stage": the same API, with no
    throttling and no access log."""
    for deployment in of_type("AWS::ApiGateway::Deployment").values():
        assert "StageName" not in deployment["Properties"], "a deployment that makes a stage of its own"
    (stage,) = of_type("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == {"Ref": "Stage"}


def test_the_api_stage_throttles_every_method_by_parameters() -> None:
    (stage,) = of_type("AWS::ApiGateway::Stage").values()
    (setting,) = stage["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        parameter = CFN["Parameters"][setting[name]["Ref"]]
        assert parameter["Type"] == "Number"
        assert parameter["MinValue"] >= 1


def test_the_api_stage_writes_an_access_log_with_retention() -> None:
    (stage,) = of_type("AWS::ApiGateway::Stage").values()
    access_log = stage["Properties"]["AccessLogSetting"]
    log_group = access_log["DestinationArn"]["Fn::GetAtt"][0]
    assert RESOURCES[log_group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    fields = json.loads(access_log["Format"])
    assert "$context.requestId" in fields.values()
    assert "$context.path" not in fields.values(), "a path carries a customer key; resourcePath does not"


def test_the_webhook_has_concurrency_reserved_by_a_parameter() -> None:
    reserved = FUNCTIONS[webhook_function()]["Properties"]["ReservedConcurrentExecutions"]
    condition, reserved_value, otherwise = reserved["Fn::If"]
    assert reserved_value == {"Ref": "WebhookReservedConcurrency"}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert CFN["Parameters"]["WebhookReservedConcurrency"]["Type"] == "Number"
    assert CFN["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebhookReservedConcurrency"}, 0]}]}
