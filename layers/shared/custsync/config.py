"""Environment variables parsed once, at cold start, into typed settings.

A missing or malformed setting raises ``ConfigurationError`` naming it, so a
bad deployment fails at init instead of deep inside a request.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from custsync.errors import ConfigurationError

SettingsT = TypeVar("SettingsT", bound="EnvSettings")


class EnvSettings(BaseModel):
    """Settings read from upper-case environment variables named after the fields."""

    # Built when first used: a function reads one of the settings classes, never both.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)
    #: Fields that come from elsewhere (the routing file), never from the environment.
    NOT_FROM_ENV: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_env(cls: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
        env = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            if name in cls.NOT_FROM_ENV:
                continue
            value = env.get(name.upper())
            if value is None or value == "":
                continue
            if _wants_json(field.annotation):
                try:
                    raw[name] = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise ConfigurationError(
                        f"invalid configuration: {name.upper()}: not valid JSON ({exc.msg})"
                    ) from exc
            else:
                raw[name] = value
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{str(err['loc'][0]).upper()}: {err['msg']}" for err in exc.errors())
            raise ConfigurationError(f"invalid configuration: {problems}") from exc


def _wants_json(annotation: Any) -> bool:
    origin = getattr(annotation, "__origin__", None)
    return (
        annotation in (dict, list)
        or origin in (dict, list)
        or (origin is Annotated and _wants_json(annotation.__args__[0]))
    )


class VendorSettings(EnvSettings):
    vendor: str = Field(min_length=1)
    state_table: str = Field(min_length=1)
    vendor_secret_name: str = Field(min_length=1)
    dlq_url: str = Field(min_length=1)
    # Real attempts at the vendor per change, then parked; deliveries without one that passed, then parked.
    max_attempts: int = Field(default=5, ge=1, le=50)
    max_receives: int = Field(default=40, ge=1, le=1000)
    backoff_base_seconds: float = Field(default=10, ge=0, le=900)
    max_backoff_seconds: float = Field(default=900, ge=0, le=12 * 3600)
    # The lease outlives any invocation; a timed-out call is assumed landed or dropped after settle_seconds.
    lease_seconds: float = Field(default=90, gt=0, le=3600)
    settle_seconds: float = Field(default=120, ge=0, le=3600)
    busy_retry_seconds: float = Field(default=5, ge=0, le=900)
    breaker_threshold: int = Field(default=5, ge=1, le=1000)
    breaker_cooldown_seconds: float = Field(default=30, ge=0, le=3600)
    # Customers (FIFO message groups) of one batch applied at once.
    group_concurrency: int = Field(default=10, ge=1, le=10)
    # The vendor's limits, for all its containers together (functions/<vendor>/vendor.yaml's `limits`): requests
    # a second (0: no shared limit), and calls in flight (0: none but GROUP_CONCURRENCY a container), shared
    # out over the most containers the event source may run (the template's scaling mode: MaximumConcurrency,
    # or ten an event poller in provisioned mode). HEALTH_CACHE_SECONDS: how stale a container's view of the
    # shared circuit and pause may be; RATE_WAIT_SECONDS: how long a request may wait for the rate.
    requests_per_second: int = Field(default=0, ge=0, le=100_000)
    max_in_flight: int = Field(default=0, ge=0, le=1_000_000)
    event_source_max_concurrency: int | None = Field(default=None, ge=2, le=1000)
    event_source_max_pollers: int | None = Field(default=None, ge=2, le=2000)
    health_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    rate_wait_seconds: float = Field(default=5.0, ge=0, le=600)
    # A vendor call's whole budget (connect, send, the whole reply), never past the invocation's end
    # minus DEADLINE_MARGIN_SECONDS; and the biggest reply it reads.
    call_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_response_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    deadline_margin_seconds: float = Field(default=3.0, ge=0, le=60)
    # From the routing file (custsync/routing.yaml, vendors.<vendor>): see VendorRuntime.
    field_map: dict[str, str] = Field(default_factory=dict)
    vendor_options: dict[str, Any] = Field(default_factory=dict)
    NOT_FROM_ENV: ClassVar[frozenset[str]] = frozenset({"field_map", "vendor_options"})

    @property
    def most_containers(self) -> int | None:
        """The most containers the event source runs at once: its MaximumConcurrency, or in provisioned mode ten
        concurrent invokes an event poller (Lambda's documented figure); None when neither is known."""
        if self.event_source_max_concurrency is not None:
            return self.event_source_max_concurrency
        return None if self.event_source_max_pollers is None else 10 * self.event_source_max_pollers

    @property
    def calls_per_container(self) -> int:
        """Vendor calls one container makes at once: its share of MAX_IN_FLIGHT (at least one), within
        GROUP_CONCURRENCY. The shares add up to MAX_IN_FLIGHT at most while it is at least the containers'."""
        containers = self.most_containers
        if not self.max_in_flight or containers is None:
            return self.group_concurrency
        return min(self.group_concurrency, max(1, self.max_in_flight // containers))


class WebhookSettings(EnvSettings):
    webhook_secret_name: str = Field(min_length=1)
    vendor_queues: dict[str, str]
    max_body_bytes: int = Field(default=256 * 1024, ge=1)
    max_json_depth: int = Field(default=32, ge=2, le=512)
    # How far a signed timestamp (HubSpot, Stripe, Standard Webhooks) may be from now, either way: each
    # scheme's own five minutes by default; capped, since it is the window in which a request can be replayed.
    max_clock_skew_seconds: int = Field(default=300, ge=1, le=3600)

    @field_validator("vendor_queues")
    @classmethod
    def _at_least_one_vendor(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("name at least one vendor queue")
        return value
