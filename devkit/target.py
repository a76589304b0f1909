"""Where an operator command points: a deployed stage (the AWS of your credentials) or the local stack.

``--stage S`` (default ``dev``) is the stack ``customer-sync-S`` in the region and account of your AWS
credentials (``AWS_PROFILE``, ``AWS_REGION``...). ``--local`` is the stack ``custsync local up`` is running on
this machine: its moto endpoint, stage ``local`` and simulators, read from the file it wrote (devkit/stack/
session.py). The names are the template's: queue ``customer-sync-<stage>-<vendor>[-dlq].fifo``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from devkit.stack.session import LocalSession
from devkit.stack.template import REGION, Template

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_CONNECTIONS = 100  # enqueue's senders: --lanes (4) for each vendor, with room to raise it


def queue_name(vendor: str, stage: str, *, dlq: bool = False) -> str:
    """The queue names template.yaml gives: customer-sync-<stage>-<vendor>[-dlq].fifo."""
    return f"customer-sync-{stage}-{vendor}{'-dlq' if dlq else ''}.fifo"


def state_dir() -> Path:
    """Where the operator's own state lives on this machine (the enqueue journal): ``$XDG_STATE_HOME/custsync``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "custsync"


@dataclass(frozen=True)
class Target:
    root: Path
    stage: str
    session: LocalSession | None = None
    _urls: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def local(self) -> bool:
        return self.session is not None

    @property
    def stack_name(self) -> str:
        return f"customer-sync-{self.stage}"

    @property
    def journal_path(self) -> Path:
        """The enqueue journal: the local stack's own (a new stack starts empty), else this machine's."""
        if self.session is not None:
            return self.session.directory / "journal.sqlite3"
        return state_dir() / "journal.sqlite3"

    @functools.cached_property
    def vendors(self) -> list[str]:
        """The template's vendors, in its order."""
        return list(Template(self.root / "template.yaml").vendor_functions())

    def client(self, service: str, config: Config | None = None) -> Any:
        """A boto3 client for ``service``: the local stack's moto, or the AWS of your credentials."""
        if self.session is None:
            return boto3.client(service, config=config)  # type: ignore[call-overload]  # the service is the caller's
        administrator = self.session.credentials[""]  # moto enforces IAM, as AWS does
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.session.endpoint_url,
            region_name=REGION,
            aws_access_key_id=administrator["access_key_id"],
            aws_secret_access_key=administrator["secret_access_key"],
            config=config,
        )

    @functools.cached_property
    def sqs(self) -> SQSClient:
        """Shared by ``enqueue``'s sending threads, each with a connection of its own (botocore keeps 10)."""
        client: SQSClient = self.client("sqs", Config(max_pool_connections=SQS_CONNECTIONS))
        return client

    def queue_url(self, vendor: str, *, dlq: bool = False) -> str:
        name = queue_name(vendor, self.stage, dlq=dlq)
        if name not in self._urls:
            self._urls[name] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[name]


def resolve(root: Path, stage: str | None, local: bool, state: Path | None = None) -> Target:
    """The target a command's ``--stage`` / ``--local`` name."""
    if local:
        session = LocalSession.read(state or LocalSession.default_path(root))
        return Target(root, session.stage, session)
    return Target(root, stage or "dev")
