import pytest

from custsync.config import VendorSettings, WebhookSettings
from custsync.errors import ConfigurationError

VENDOR_ENV = {"VENDOR": "exsalerate", "STATE_TABLE": "t", "VENDOR_SECRET_NAME": "s", "DLQ_URL": "http://q"}


def test_vendor_settings_parse_types() -> None:
    settings = VendorSettings.from_env({**VENDOR_ENV, "MAX_ATTEMPTS": "3", "SETTLE_SECONDS": "2.5"})
    assert (settings.max_attempts, settings.settle_seconds) == (3, 2.5)


def test_field_maps_and_options_come_from_the_routing_file_never_the_environment() -> None:
    settings = VendorSettings.from_env({**VENDOR_ENV, "FIELD_MAP": '{"Rank": "tier"}', "VENDOR_OPTIONS": "{}"})
    assert (settings.field_map, settings.vendor_options) == ({}, {})


def test_a_missing_setting_is_named_at_cold_start() -> None:
    env = {k: v for k, v in VENDOR_ENV.items() if k != "STATE_TABLE"}
    with pytest.raises(ConfigurationError, match="STATE_TABLE"):
        VendorSettings.from_env(env)


def test_a_malformed_setting_is_named() -> None:
    with pytest.raises(ConfigurationError, match="MAX_ATTEMPTS"):
        VendorSettings.from_env({**VENDOR_ENV, "MAX_ATTEMPTS": "many"})
    with pytest.raises(ConfigurationError, match="VENDOR_QUEUES"):
        WebhookSettings.from_env({"WEBHOOK_SECRET_NAME": "w", "VENDOR_QUEUES": "not json"})


@pytest.mark.parametrize(
    ("limits", "calls"),
    [
        ({"MAX_IN_FLIGHT": "50", "EVENT_SOURCE_MAX_CONCURRENCY": "5"}, 10),
        ({"MAX_IN_FLIGHT": "8", "EVENT_SOURCE_MAX_CONCURRENCY": "4"}, 2),
        ({"MAX_IN_FLIGHT": "8", "EVENT_SOURCE_MAX_POLLERS": "2"}, 1),  # twenty containers: one call each, at least
        ({"MAX_IN_FLIGHT": "500", "EVENT_SOURCE_MAX_POLLERS": "5"}, 10),
        ({"MAX_IN_FLIGHT": "50"}, 10),  # the containers unknown: GROUP_CONCURRENCY
        ({}, 10),
    ],
)
def test_a_container_makes_its_share_of_the_vendors_calls_in_flight(limits: dict[str, str], calls: int) -> None:
    settings = VendorSettings.from_env(
        {"VENDOR": "v", "STATE_TABLE": "t", "VENDOR_SECRET_NAME": "s", "DLQ_URL": "q", **limits}
    )
    assert settings.calls_per_container == calls
