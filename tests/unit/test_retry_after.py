"""Retry-After in both of HTTP's forms, capped by what SQS can wait; anything else is no instruction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from custsync.transport.rest import MAX_RETRY_AFTER_SECONDS, parse_retry_after


def reply(value: str) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": value})


def test_seconds() -> None:
    assert parse_retry_after(reply("120")) == 120


def test_an_http_date() -> None:
    moment = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    seconds = parse_retry_after(reply(moment))
    assert seconds is not None and 290 <= seconds <= 300


def test_a_date_in_the_past_is_now() -> None:
    assert parse_retry_after(reply("Wed, 21 Oct 2015 07:28:00 GMT")) == 0


def test_longer_than_sqs_can_hide_a_message_is_capped() -> None:
    assert parse_retry_after(reply("9999999")) == MAX_RETRY_AFTER_SECONDS


@pytest.mark.parametrize("value", ["soon", "-5", "1.5", "Wed, 99 Foo 2015", ""])
def test_anything_else_is_ignored(value: str) -> None:
    assert parse_retry_after(reply(value)) is None
