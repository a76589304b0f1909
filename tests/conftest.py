"""Shared fixtures: a fresh local stack (moto + simulators) per test, and handlers built against it."""

from __future__ import annotations

import base64
import io
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from suite_clock import CLOCK, SHIFT_SECONDS

if TYPE_CHECKING:
    from flow import VendorFlow

ROOT = Path(__file__).resolve().parents[1]

# Nothing in the tests may reach real AWS: fake credentials, a fixed region, no X-Ray.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "customer-sync",
    }
)
os.environ.pop("AWS_PROFILE", None)


def _one_botocore_loader() -> None:
    """Every boto3 session of this process shares one botocore loader: a stack per test makes a dozen clients, and
    each new session would read and parse the same service models again (half a second a stack)."""
    import functools

    import botocore.loaders
    import botocore.session

    botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


_one_botocore_loader()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift",
        type=float,
        default=SHIFT_SECONDS,
        help="seconds the suite clock moves on once collection is done (tests/suite_clock.py); 0: not at all",
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything a test module made at import is now as old as a slow suite would make it."""
    CLOCK.move_on(session.config.getoption("clock_shift"))


@pytest.fixture(autouse=True, scope="session")
def webhook_on_the_suite_clock() -> Iterator[None]:
    """Every webhook built in this process checks signed timestamps against the suite's clock."""
    from custsync import webhook

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook, "time", CLOCK)
        yield


WEBHOOK_SECRET_NAME = "customer-sync/local/webhook"
SHOPIFY_SECRET = "test-shopify-client-secret"
WEBHOOK_SECRETS: dict[str, Any] = {
    "shopify": SHOPIFY_SECRET,
    "hubspot": "test-hubspot-client-secret",
    "stripe": "whsec_test_stripe_endpoint_secret",
    "woocommerce": "test-woocommerce-webhook-secret",
    "standardwebhooks": "whsec_" + base64.b64encode(b"test-standardwebhooks-key").decode(),
}


def vendor_secrets() -> dict[str, Any]:
    """Every secret the local stack seeds: local/secrets.json, every simulator on a free port (port 0), and the
    webhook's test secrets."""
    from devkit.stack.local import load_secrets, on_free_ports

    values = on_free_ports(load_secrets(ROOT / "local" / "secrets.json"))
    values[WEBHOOK_SECRET_NAME] = dict(WEBHOOK_SECRETS)
    return values


def forget_secrets() -> None:
    """Drop cached secrets and AWS clients: a test's stack may have moved AWS and the simulators' ports."""
    from custsync import aws, routing, secrets

    secrets.forget()
    routing.forget()
    aws.forget()


@pytest.fixture
def secrets(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The stack's secrets; parametrize indirectly with {secret name: {key: value}} to change some."""
    values = vendor_secrets()
    for name, overrides in getattr(request, "param", {}).items():
        values[name] = {**values.get(name, {}), **overrides}
    return values


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the session (each stack resets it): stopping one costs half a second."""
    from devkit.stack.local import LocalStack, start_moto

    server = start_moto()
    yield LocalStack._moto_url(server)
    server.stop()


@pytest.fixture
def stack(secrets: dict[str, Any], tmp_path: Path, moto_endpoint: str) -> Iterator[Any]:
    from devkit.stack.local import LocalStack

    forget_secrets()
    with LocalStack(ROOT, secrets, log_dir=tmp_path, moto_endpoint=moto_endpoint) as local:
        yield local
    forget_secrets()


@pytest.fixture
def function_env(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], dict[str, str]]:
    """Point this process's environment at the stack as a function's would be, and return it."""

    def apply(logical_id: str) -> dict[str, str]:
        environment: dict[str, str] = stack.function_environment(logical_id)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return environment

    return apply


class FakeLambdaContext:
    """Lambda's context; ``timeout_seconds`` makes the remaining time count down from now, as an invocation's does
    (by default it stays at 30 s, so one context can serve many invocations)."""

    def __init__(self, timeout_seconds: float | None = None) -> None:
        self._ends = None if timeout_seconds is None else time.monotonic() + timeout_seconds

    function_name = "test-function"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
    aws_request_id = "test-request-id"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        if self._ends is None:
            return 30_000
        return max(0, int((self._ends - time.monotonic()) * 1000))


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def vendor_handler(
    stack: Any, function_env: Callable[[str], dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """A vendor's handler built in this process against the stack, as Lambda would at cold start;
    keyword arguments override its environment (``MAX_ATTEMPTS="1"``)."""
    import importlib

    from custsync.runtime import build_handler

    def build(vendor: str, **environment: str) -> Any:
        module = importlib.import_module(f"{vendor}.connector")
        function_env(f"{vendor.capitalize()}Function")
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return build_handler(getattr(module, f"{vendor.capitalize()}Connector"))

    return build


WebhookPost = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


@pytest.fixture
def post(stack: Any, function_env: Callable[[str], dict[str, str]], lambda_context: FakeLambdaContext) -> WebhookPost:
    """The webhook function's app built in this process against the stack; ``post(event)`` is its status and
    JSON body."""
    import json

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from custsync.config import WebhookSettings
    from custsync.observability import metrics
    from custsync.webhook import build_webhook_app

    function_env("WebhookFunction")
    app = build_webhook_app(WebhookSettings.from_env())

    def send(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = app.resolve(event, cast(LambdaContext, lambda_context))
        metrics.clear_metrics()  # as the handler's log_metrics does after each invocation
        return response["statusCode"], json.loads(response["body"])

    return send


@pytest.fixture
def exsalerate(vendor_handler: Callable[[str], Any]) -> Any:
    return vendor_handler("exsalerate")


@pytest.fixture
def vendor(
    request: pytest.FixtureRequest,
    stack: Any,
    vendor_handler: Callable[..., Any],
    lambda_context: FakeLambdaContext,
) -> VendorFlow:
    """The vendor a flow-test module names with ``pytestmark = pytest.mark.vendor("<name>")``, on this test's
    stack: its handler (built now, as at cold start), simulator, queue and DLQ."""
    from flow import VendorFlow

    marker = request.node.get_closest_marker("vendor")
    assert marker is not None, "the vendor fixture needs pytest.mark.vendor(<name>) on the test or its module"
    return VendorFlow(marker.args[0], stack, vendor_handler, lambda_context)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """What the Powertools logger writes (JSON lines), as CloudWatch would receive it."""
    from custsync.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    original = handler.setStream(stream)
    yield stream
    handler.setStream(original)
