"""Any vendor simulator can count requests per second and refuse what is over a limit: 429 with Retry-After, in
the vendor's own error shape, as a vendor counting requests per second does."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from devkit.simulators.base import serve
from devkit.simulators.expandable import ExpandableSimulator
from devkit.simulators.exsalerate import ExsalerateSimulator

AUTH = ("sync-user", "sync-pass")


@pytest.fixture
def exsalerate() -> Iterator[tuple[ExsalerateSimulator, str, list[float]]]:
    now = [1_800_000_000.25]
    sim = ExsalerateSimulator(username=AUTH[0], password=AUTH[1], site_owner_id=1)
    sim.limit_rate(2, clock=lambda: now[0])
    with serve(sim) as server:
        yield sim, server.url, now


def look_up(url: str) -> httpx.Response:
    return httpx.get(f"{url}/api/Customer", params={"siteOwnerId": 1, "refCode": "R1"}, auth=AUTH)


def test_requests_over_the_limit_in_a_second_are_refused_with_retry_after_in_the_vendors_shape(
    exsalerate: tuple[ExsalerateSimulator, str, list[float]],
) -> None:
    sim, url, now = exsalerate
    assert [look_up(url).status_code for _ in range(2)] == [404, 404], "within the limit: answered as ever"
    refused = look_up(url)
    assert refused.status_code == 429
    assert refused.json() == {"Message": "Too many requests"}
    assert refused.headers["Retry-After"] == "1", "the next second"
    now[0] += 1
    assert look_up(url).status_code == 404
    assert sim.rate_limit is not None
    assert (dict(sim.rate_limit.arrived), dict(sim.rate_limit.refused)) == (
        {1_800_000_000: 3, 1_800_000_001: 1},
        {1_800_000_000: 1},
    )


def test_the_limit_is_set_and_read_over_http() -> None:
    sim = ExpandableSimulator()
    with serve(sim) as server:
        assert httpx.get(f"{server.url}/_sim/rate-limit").json() == {"per_second": None}
        assert httpx.post(f"{server.url}/_sim/rate-limit", json={"per_second": 1}).json()["per_second"] == 1
        statuses = [httpx.post(f"{server.url}/api/auth-token-get", json={}).status_code for _ in range(3)]
        counted = httpx.get(f"{server.url}/_sim/rate-limit").json()
        assert sum(counted["arrived"].values()) == 3
        assert sum(counted["refused"].values()) == statuses.count(429), "what a second held over its limit"
        httpx.post(f"{server.url}/_sim/reset")
        assert httpx.get(f"{server.url}/_sim/rate-limit").json() == {"per_second": None}


def test_the_most_requests_in_flight_at_once_are_counted() -> None:
    sim = ExpandableSimulator()
    sim.faults.add("latency", delay=0.3, count=4)
    with serve(sim) as server:
        threads = [
            threading.Thread(target=httpx.post, args=(f"{server.url}/api/auth-token-get",), kwargs={"json": {}})
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sim.peak_in_flight == 4
