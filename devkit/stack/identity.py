"""IAM on the local stack, enforced by moto: an administrator sets the stack up, and each function runs with
credentials of its own role from the template, assumed as Lambda assumes it.

moto then checks every call's action, and an SQS call's queue, against the caller's policies; it checks neither
other resources nor conditions (tests/unit/test_security_template.py holds those). A function whose role lacks an
action it calls fails under the emulator, as it would in AWS.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import boto3
import httpx

from devkit.iam import as_moto_enforces, function_roles
from devkit.stack.template import REGION, Template

ADMINISTRATOR = "customer-sync-local-admin"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def environment(self) -> dict[str, str]:
        """As Lambda gives a function its role's credentials: environment variables."""
        values = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        return values | ({"AWS_SESSION_TOKEN": self.session_token} if self.session_token else {})

    def client_arguments(self) -> dict[str, Any]:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }


def enforce(endpoint: str, enforced: bool) -> None:
    """moto checks every request against IAM from now on (``enforced``), or none (``/moto-api/reset-auth``: the
    number of requests let through before it starts checking). A setting of moto's process, not of a server."""
    count = b"0" if enforced else b"inf"
    httpx.post(f"{endpoint}/moto-api/reset-auth", content=count, timeout=10).raise_for_status()


class LocalIam:
    """The stack's identities in moto: ``bootstrap`` on a freshly reset moto (not enforcing yet), then ``grant``
    once the resources the policies name exist."""

    def __init__(self, endpoint: str, template: Template, stack_name: str) -> None:
        self.endpoint = endpoint
        self.template = template
        self.stack_name = stack_name
        self.roles = function_roles(template.body)  # function logical id -> role logical id
        self.administrator: Credentials | None = None
        self.functions: dict[str, Credentials] = {}

    def _iam(self, credentials: Credentials) -> Any:
        return boto3.client("iam", region_name=REGION, endpoint_url=self.endpoint, **credentials.client_arguments())

    def bootstrap(self) -> Credentials:
        """The administrator, and each function's role, assumed (moto cannot check that the caller is Lambda,
        which the trust policy names, so this happens before it enforces). Returns the administrator's keys."""
        anyone = Credentials("bootstrap", "bootstrap")
        iam = self._iam(anyone)
        iam.create_user(UserName=ADMINISTRATOR)
        iam.put_user_policy(UserName=ADMINISTRATOR, PolicyName="everything", PolicyDocument=json.dumps(EVERYTHING))
        key = iam.create_access_key(UserName=ADMINISTRATOR)["AccessKey"]
        self.administrator = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        sts = boto3.client("sts", region_name=REGION, endpoint_url=self.endpoint, **anyone.client_arguments())
        for function, role in self.roles.items():
            trust = self.template.resources[role]["Properties"]["AssumeRolePolicyDocument"]
            created = iam.create_role(RoleName=self.role_name(role), AssumeRolePolicyDocument=json.dumps(trust))
            arn = created["Role"]["Arn"]
            assumed = sts.assume_role(RoleArn=arn, RoleSessionName=function)["Credentials"]
            self.functions[function] = Credentials(
                assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
            )
        return self.administrator

    def record(self) -> dict[str, dict[str, str | None]]:
        """The administrator's and the functions' credentials (``""`` is the administrator), for ``restore``."""
        assert self.administrator is not None, "bootstrap first"
        everyone = {"": self.administrator, **self.functions}
        return {name: asdict(credentials) for name, credentials in everyone.items()}

    @classmethod
    def restore(
        cls, endpoint: str, template: Template, stack_name: str, record: dict[str, dict[str, str | None]]
    ) -> LocalIam:
        """The identities of a stack another process set up (``custsync local up``), from its ``record``."""
        identities = cls(endpoint, template, stack_name)
        known = {name: Credentials(**values) for name, values in record.items()}  # type: ignore[arg-type]
        identities.administrator = known.pop("")
        identities.functions = known
        return identities

    def role_name(self, role: str) -> str:
        return f"{self.stack_name}-{role}"

    def grant(self, physical: dict[str, dict[str, str]]) -> None:
        """Each role's inline policies from the template, resolved against the stack's resources and its
        conditions, put on the role as moto enforces them."""
        assert self.administrator is not None, "bootstrap first"
        iam = self._iam(self.administrator)
        resolver = self.template.resolver(physical, self.stack_name)
        for role in set(self.roles.values()):
            for policy in resolver.resolve(self.template.resources[role]["Properties"].get("Policies", [])):
                iam.put_role_policy(
                    RoleName=self.role_name(role),
                    PolicyName=str(policy["PolicyName"]),
                    PolicyDocument=json.dumps(as_moto_enforces(policy["PolicyDocument"])),
                )
