"""Creates the template's queues, table, secrets and log groups in moto, and names them for the resolver."""

from __future__ import annotations

import json
from typing import Any

import boto3

from devkit.stack.template import ACCOUNT_ID, REGION, Template

SECRET_TYPE = "AWS::SecretsManager::Secret"
QUEUE_TYPE = "AWS::SQS::Queue"
TABLE_TYPE = "AWS::DynamoDB::Table"
LOG_GROUP_TYPE = "AWS::Logs::LogGroup"


def create_resources(template: Template, stack_name: str, secrets: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Create every queue, table, secret and log group; return logical id -> {"Ref": ..., attribute: ...}."""
    physical: dict[str, dict[str, str]] = {}
    resolver = template.resolver(physical, stack_name)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for logical, resource in template.of_type(TABLE_TYPE).items():
        props = resolver.resolve(resource["Properties"])
        name = props.get("TableName") or f"{stack_name}-{logical}"
        table = dynamodb.create_table(
            TableName=name,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
        )["TableDescription"]
        physical[logical] = {"Ref": name, "Arn": table["TableArn"]}

    secretsmanager = boto3.client("secretsmanager", region_name=REGION)
    for logical, resource in template.of_type(SECRET_TYPE).items():
        props = resolver.resolve(resource["Properties"])
        name = props["Name"]
        value = secrets.get(name)
        secret_string = json.dumps(value) if value is not None else props.get("SecretString", "{}")
        arn = secretsmanager.create_secret(Name=name, SecretString=secret_string)["ARN"]
        physical[logical] = {"Ref": arn, "Id": arn, "Name": name}

    sqs = boto3.client("sqs", region_name=REGION)
    queues = template.of_type(QUEUE_TYPE)
    # Dead-letter queues first: the others' RedrivePolicy names their ARN.
    for logical in sorted(queues, key=lambda name: "RedrivePolicy" in queues[name]["Properties"]):
        props = resolver.resolve(queues[logical]["Properties"])
        name = props.pop("QueueName", f"{stack_name}-{logical}")
        attributes = {
            key: json.dumps(value)
            if isinstance(value, dict)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for key, value in props.items()
        }
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"  # what GetQueueAttributes would say, a call less
        physical[logical] = {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": name}

    logs = boto3.client("logs", region_name=REGION)
    for logical, resource in template.of_type(LOG_GROUP_TYPE).items():
        props = resolver.resolve(resource["Properties"])
        name = props["LogGroupName"]
        logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        # The ARN CloudFormation's GetAtt gives: the group's streams included (":*").
        physical[logical] = {"Ref": name, "Arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"}
    return physical
