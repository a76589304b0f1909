import pytest

from custsync.config import VendorSettings, WebhookSettings
from custsync.errors import ConfigurationError

VENDOR_ENV = {"VENDOR": "exsalerate", "STATE_TABLE": "t", "VENDOR_SECRET_NAME": "s", "DLQ_URL": "http://q"}


def test_vendor_settings_parse_types_and_json() -> None:
    settings = VendorSettings.from_env({**VENDOR_ENV, "MAX_ATTEMPTS": "3", "FIELD_MAP": '{"Rank": "tier"}'})
    assert settings.max_attempts == 3
    assert settings.field_map == {"Rank": "tier"}


def test_a_missing_setting_is_named_at_cold_start() -> None:
    env = {k: v for k, v in VENDOR_ENV.items() if k != "STATE_TABLE"}
    with pytest.raises(ConfigurationError, match="STATE_TABLE"):
        VendorSettings.from_env(env)


def test_a_malformed_setting_is_named() -> None:
    with pytest.raises(ConfigurationError, match="MAX_ATTEMPTS"):
        VendorSettings.from_env({**VENDOR_ENV, "MAX_ATTEMPTS": "many"})
    with pytest.raises(ConfigurationError, match="VENDOR_QUEUES"):
        WebhookSettings.from_env({"WEBHOOK_SECRET_NAME": "w", "VENDOR_QUEUES": "not json"})
