"""Refresh failures: credentials (and, when asked for, items) stand in for a failed refresh.

Each test runs a scenario in a fresh interpreter (see _child) on a monotonic clock it moves.
Credentials come from the stand-in STS on 127.0.0.1, items from moto's server; botocore makes
one attempt per call (AWS_MAX_ATTEMPTS=1), so its own retries do not sleep between ours.
"""

import itertools
import os

import _child
import boto3
import pytest
from _tables import hash_key_table

ROLE = "arn:aws:iam::123456789012:role/reader"
ONE_ATTEMPT = {"AWS_MAX_ATTEMPTS": "1"}
STEP = 0.05


def _stand_in_sts():
    """The stand-in STS of conftest, started in this child and used for every STS call."""
    from conftest import StsStandIn

    sts = StsStandIn()
    sts.start()
    os.environ["AWS_ENDPOINT_URL_STS"] = sts.url
    return sts


def _secrets(*credentials) -> list[str]:
    return [
        part
        for found in credentials
        for part in (found.access_key_id, found.secret_access_key, found.session_token)
    ]


def _attempts_while_failing(cached, clock, sts, first, seconds: float) -> list[float]:
    """Ask for the role every STEP for that long; the clock times at which STS was called.
    Every answer must be the first credentials."""
    times, start = [], clock.now
    while clock.now - start < seconds:
        clock.advance(STEP)
        calls = len(sts.assume_calls)
        assert cached.assume_role(ROLE) == first
        if len(sts.assume_calls) > calls:
            times.append(clock.now)
    return times


# Credentials


def scenario_throttled_sts(clock: _child.Clock) -> dict:
    """Credentials past their TTL while STS throttles; then STS recovers; then the margin."""
    sts = _stand_in_sts()
    import cached_clients

    logged = _child.warnings_of_cached_clients()
    first = cached_clients.assume_role(ROLE)
    clock.advance(300.01)  # past the TTL, with 3300 s left before the refresh margin
    sts.error_code, sts.error_status = "Throttling", 400

    served = cached_clients.assume_role(ROLE)
    failed_at = clock.now
    times = [failed_at, *_attempts_while_failing(cached_clients, clock, sts, first, seconds=130)]
    warnings = list(logged)

    sts.error_code = None
    recovered = first
    while recovered == first and clock.now - failed_at < 200:
        clock.advance(STEP)
        recovered = cached_clients.assume_role(ROLE)
    fetched_at, calls = clock.now, len(sts.assume_calls)
    again = cached_clients.assume_role(ROLE)
    calls_after_recovery = len(sts.assume_calls) - calls

    sts.error_code = "Throttling"
    clock.now = fetched_at + 3299  # the refresh margin is 300 s of 3600 s credentials
    before_margin = cached_clients.assume_role(ROLE) == recovered
    raised = []
    for seconds in (3300.01, 3300.5, 3400):
        clock.now = fetched_at + seconds
        try:
            cached_clients.assume_role(ROLE)
        except Exception as error:
            raised.append(error.response["Error"]["Code"])
    return {
        "served_first": served == first,
        "gaps": [later - earlier for earlier, later in itertools.pairwise(times)],
        "warnings": warnings,
        "recovered": recovered != first and again == recovered,
        "calls_after_recovery": calls_after_recovery,
        "before_margin": before_margin,
        "raised": raised,
        "secrets": _secrets(first, recovered),
    }


def test_throttled_sts_serves_the_cached_credentials_backs_off_and_raises_below_the_margin():
    outcome = _child.run("test_stale_if_error:scenario_throttled_sts", env=ONE_ATTEMPT)

    assert outcome["served_first"]
    gaps = outcome["gaps"]
    assert len(gaps) >= 6
    for attempt, gap in enumerate(gaps, start=1):
        delay = min(2.0 ** (attempt - 1), 30.0)
        assert delay / 2 - STEP - 0.001 <= gap <= delay + STEP + 0.001, (attempt, gap)
    assert len(outcome["warnings"]) == len(gaps) + 1
    assert all(
        message.startswith("WARNING sts: refresh failed (ClientError Throttling)")
        for message in outcome["warnings"]
    )
    assert not [secret for secret in outcome["secrets"] if secret in str(outcome["warnings"])]

    assert outcome["recovered"]
    assert outcome["calls_after_recovery"] == 0
    assert outcome["before_margin"]
    assert outcome["raised"] == ["Throttling"] * 3


def scenario_sts_timeout_and_connection_error(clock: _child.Clock) -> dict:
    """Two roles past their TTL: STS times out for one, and then cannot be reached at all."""
    from botocore.exceptions import ReadTimeoutError

    sts = _stand_in_sts()
    import cached_clients

    logged = _child.warnings_of_cached_clients()
    writer = ROLE.replace("reader", "writer")
    first, other = cached_clients.assume_role(ROLE), cached_clients.assume_role(writer)
    clock.advance(300.01)

    def time_out(**_) -> None:
        raise ReadTimeoutError(endpoint_url=sts.url)

    events = cached_clients.client("sts").meta.events
    events.register("before-send.sts.AssumeRole", time_out)
    after_timeout = cached_clients.assume_role(ROLE) == first
    events.unregister("before-send.sts.AssumeRole", time_out)

    sts.stop()
    after_refusal = cached_clients.assume_role(writer) == other
    within_backoff = cached_clients.assume_role(writer) == other
    return {
        "after_timeout": after_timeout,
        "after_refusal": after_refusal,
        "within_backoff": within_backoff,
        "warnings": list(logged),
    }


def test_a_timeout_or_a_connection_error_serves_the_cached_credentials():
    outcome = _child.run(
        "test_stale_if_error:scenario_sts_timeout_and_connection_error", env=ONE_ATTEMPT
    )

    assert outcome["after_timeout"]
    assert outcome["after_refusal"]
    assert outcome["within_backoff"]
    first, second = outcome["warnings"]
    assert "refresh failed (ReadTimeoutError)" in first
    assert "refresh failed (EndpointConnectionError)" in second


def scenario_sts_refuses(clock: _child.Clock) -> dict:
    """Roles past their TTL whose refresh STS refuses with errors that no retry mends."""
    sts = _stand_in_sts()
    import cached_clients

    logged = _child.warnings_of_cached_clients()
    refusals = [
        ("AccessDenied", 403),
        ("ExpiredTokenException", 400),
        ("RegionDisabledException", 403),
    ]
    roles = [f"arn:aws:iam::123456789012:role/{code}" for code, _ in refusals]
    for role in roles:
        cached_clients.assume_role(role)
    clock.advance(300.01)

    raised = []
    for role, (code, status) in zip(roles, refusals, strict=True):
        sts.error_code, sts.error_status = code, status
        calls = len(sts.assume_calls)
        for _ in range(2):
            try:
                cached_clients.assume_role(role)
            except Exception as error:
                raised.append(error.response["Error"]["Code"])
        raised.append(len(sts.assume_calls) - calls)
    return {"raised": raised, "warnings": list(logged)}


def test_access_denied_and_other_errors_no_retry_mends_are_raised_at_once():
    outcome = _child.run("test_stale_if_error:scenario_sts_refuses", env=ONE_ATTEMPT)

    assert outcome["raised"] == [
        *("AccessDenied", "AccessDenied", 2),
        *("ExpiredTokenException", "ExpiredTokenException", 2),
        *("RegionDisabledException", "RegionDisabledException", 2),
    ]
    assert outcome["warnings"] == []


def scenario_role_session_refresh_fails(clock: _child.Clock) -> dict:
    """A role session whose credentials are past their TTL while STS throttles."""
    sts = _stand_in_sts()
    import cached_clients

    logged = _child.warnings_of_cached_clients()
    first = cached_clients.assume_role(ROLE)
    session = cached_clients.role_session(ROLE)
    clock.advance(300.01)
    sts.error_code, sts.error_status = "Throttling", 400

    session.client("sts").get_caller_identity()
    signed_by_first = sts.signed_by[-1] == first.access_key_id

    clock.advance(3300)  # now less than the refresh margin is left
    try:
        cached_clients.role_session(ROLE).client("sts").get_caller_identity()
        below_margin = "no error"
    except Exception as error:
        below_margin = error.response["Error"]["Code"]
    return {"signed_by_first": signed_by_first, "below_margin": below_margin, "warnings": logged}


def test_a_role_session_whose_refresh_fails_behaves_the_same():
    outcome = _child.run("test_stale_if_error:scenario_role_session_refresh_fails", env=ONE_ATTEMPT)

    assert outcome["signed_by_first"]
    assert outcome["below_margin"] == "Throttling"
    (warning,) = outcome["warnings"]
    assert "sts: refresh failed (ClientError Throttling)" in warning


def _hold_assume_role_until(cached, waiters: int) -> None:
    """Keep the first AssumeRole from being sent until that many callers wait on it."""
    import time

    def hold(**_) -> None:
        deadline = time.perf_counter() + 10  # the monotonic clock stands still in here
        while cached.stats()["sts"]["hits"] < waiters and time.perf_counter() < deadline:
            time.sleep(0.005)

    cached.client("sts").meta.events.register("before-send.sts.AssumeRole", hold)


def scenario_waiters_on_a_failed_refresh(clock: _child.Clock) -> dict:
    """Ten threads ask at once for credentials past their TTL while STS throttles; then the
    caches are cleared and the role asked for twice more."""
    import threading

    sts = _stand_in_sts()
    import cached_clients

    first = cached_clients.assume_role(ROLE)
    clock.advance(300.01)
    sts.error_code, sts.error_status = "Throttling", 400
    _hold_assume_role_until(cached_clients, waiters=9)
    barrier, served = threading.Barrier(10), []

    def ask() -> None:
        barrier.wait(10)
        served.append(cached_clients.assume_role(ROLE) == first)

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    calls = len(sts.assume_calls)

    cached_clients.clear()
    after_clear = [_outcome_of(lambda: cached_clients.assume_role(ROLE)) for _ in range(2)]
    return {
        "served": served,
        "calls": calls,
        "after_clear": after_clear,
        "calls_after_clear": len(sts.assume_calls) - calls,
    }


def _outcome_of(function) -> str:
    from botocore.exceptions import ClientError

    try:
        function()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "served"


def test_waiters_on_a_failed_refresh_get_the_cached_credentials_and_clear_forgets_them():
    outcome = _child.run(
        "test_stale_if_error:scenario_waiters_on_a_failed_refresh", env=ONE_ATTEMPT
    )

    assert outcome["served"] == [True] * 10
    assert outcome["calls"] == 2
    assert outcome["after_clear"] == ["Throttling", "Throttling"]
    assert outcome["calls_after_clear"] == 2


def scenario_backoff_after_a_recovery(clock: _child.Clock) -> dict:
    """A refresh fails long enough for the backoff to grow, STS recovers, and the refreshed
    credentials are due again while STS throttles: the waits before each later try."""
    sts = _stand_in_sts()
    import cached_clients

    first = cached_clients.assume_role(ROLE)
    clock.advance(300.01)
    sts.error_code, sts.error_status = "Throttling", 400
    cached_clients.assume_role(ROLE)
    grown = _attempts_while_failing(cached_clients, clock, sts, first, seconds=20)

    sts.error_code = None
    recovered = first
    while recovered == first:
        clock.advance(STEP)
        recovered = cached_clients.assume_role(ROLE)
    clock.advance(300.01)
    sts.error_code = "Throttling"
    failed_at = clock.now
    cached_clients.assume_role(ROLE)
    again = _attempts_while_failing(cached_clients, clock, sts, recovered, seconds=4)
    return {
        "failures": 1 + len(grown),
        "waits": [later - earlier for earlier, later in itertools.pairwise([failed_at, *again])],
    }


def test_a_success_ends_the_backoff_and_the_next_failure_starts_it_afresh():
    outcome = _child.run("test_stale_if_error:scenario_backoff_after_a_recovery", env=ONE_ATTEMPT)

    # Five failures in a row or more: had the success not ended it, the next wait would be
    # 16 to 30 s.
    assert outcome["failures"] >= 5
    assert len(outcome["waits"]) >= 2, outcome
    first, second = outcome["waits"][:2]
    assert 0.5 - 0.001 <= first <= 1 + STEP + 0.001
    assert 1 - 0.001 <= second <= 2 + STEP + 0.001


# Items


@pytest.fixture
def items(moto_endpoint: str) -> dict[str, str]:
    """moto's server with a table "items" holding k0 to k4; the environment for a scenario."""
    table = hash_key_table(boto3.resource("dynamodb", endpoint_url=moto_endpoint), "items")
    for number in range(5):
        table.put_item(Item={"pk": f"k{number}", "value": number})
    return {"AWS_ENDPOINT_URL": moto_endpoint, **ONE_ATTEMPT}


def _outcome(function) -> object:
    """What function returns, or the error code of the ClientError it raises."""
    from botocore.exceptions import ClientError

    try:
        found = function()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None if found is None else int(found["value"])


def _stale_window(cached, clock, stubber) -> list:
    """k0 to k2 read with a TTL of 10 s, then again from their expiry to past k0's window while
    DynamoDB throttles, or says the request was wrong (k1), or is read consistently (k2)."""
    start = clock.now
    for key in ("k0", "k1", "k2"):
        cached.get_item("items", {"pk": key}, ttl=10)

    def read(key: str, code: str | None, **options) -> object:
        if code:
            stubber.add_client_error("get_item", code, http_status_code=400)
        return _outcome(lambda: cached.get_item("items", {"pk": key}, ttl=10, **options))

    with stubber:
        clock.now = start + 10.01
        seen = [read("k0", "ProvisionedThroughputExceededException")]
        clock.now = start + 10.02
        seen.append(read("k0", None))  # inside the backoff: no stub is left for an attempt
        clock.now = start + 10.03
        seen += [
            read("k1", code)
            for code in ("ValidationException", "ResourceNotFoundException", "AccessDenied")
        ]
        seen.append(read("k2", "ThrottlingException", consistent_read=True))
        for offset in (11.01, 64.9, 70.01):
            clock.now = start + offset
            seen.append(read("k0", "ThrottlingException"))
        stubber.assert_no_pending_responses()
    return seen


def _connection_refused(cached, clock) -> object:
    """k3 past its TTL while DynamoDB cannot be reached."""
    from botocore.exceptions import EndpointConnectionError

    cached.get_item("items", {"pk": "k3"}, ttl=10)
    clock.advance(10.01)

    def refuse(**_) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    events = cached.client("dynamodb").meta.events
    events.register("before-send.dynamodb.GetItem", refuse)
    try:
        return _outcome(lambda: cached.get_item("items", {"pk": "k3"}, ttl=10))
    finally:
        events.unregister("before-send.dynamodb.GetItem", refuse)


def scenario_stale_items(clock: _child.Clock) -> dict:
    """Expired items while DynamoDB fails, with CACHED_CLIENTS_STALE_IF_ERROR=60, then unset."""
    import cached_clients
    from botocore.stub import Stubber

    logged = _child.warnings_of_cached_clients()
    window = _stale_window(cached_clients, clock, Stubber(cached_clients.client("dynamodb")))
    refused_connection = _connection_refused(cached_clients, clock)
    warnings = list(logged)

    del os.environ["CACHED_CLIENTS_STALE_IF_ERROR"]
    cached_clients.clear()
    cached_clients.get_item("items", {"pk": "k4"}, ttl=10)
    clock.advance(10.01)
    with Stubber(cached_clients.client("dynamodb")) as stubber:
        stubber.add_client_error("get_item", "ThrottlingException", http_status_code=400)
        off = _outcome(lambda: cached_clients.get_item("items", {"pk": "k4"}, ttl=10))
    return {
        "window": window,
        "refused_connection": refused_connection,
        "warnings": warnings,
        "off": off,
    }


def test_stale_if_error_serves_expired_items_for_transient_failures_only(items):
    env = {**items, "CACHED_CLIENTS_STALE_IF_ERROR": "60"}

    outcome = _child.run("test_stale_if_error:scenario_stale_items", env=env)

    assert outcome["window"] == [
        0,
        0,
        "ValidationException",
        "ResourceNotFoundException",
        "AccessDenied",
        "ThrottlingException",
        0,
        0,
        "ThrottlingException",
    ]
    assert outcome["refused_connection"] == 3
    assert [message.split(";")[0] for message in outcome["warnings"]] == [
        "WARNING dynamodb: refresh failed (ProvisionedThroughputExceededException)",
        "WARNING dynamodb: refresh failed (ThrottlingException)",
        "WARNING dynamodb: refresh failed (ThrottlingException)",
        "WARNING dynamodb: refresh failed (EndpointConnectionError)",
    ]
    assert outcome["off"] == "ThrottlingException"
