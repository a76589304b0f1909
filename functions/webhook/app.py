"""Webhook function: wiring only."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from custsync import snapstart
from custsync.config import WebhookSettings
from custsync.observability import logger, metrics, traced
from custsync.webhook import build_webhook_app

app = build_webhook_app(WebhookSettings.from_env())
snapstart.register(snapstart.AwsServiceModels("sqs", "secretsmanager"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced()
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
