"""assume_role and Credentials: caching, lifetimes against the refresh margin, validation."""

import datetime
import logging
import pickle
import threading
import time
from decimal import Decimal
from fractions import Fraction

import _child
import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/reader"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/reader"
POLICY = '{"Version": "2012-10-17", "Statement": []}'

pytestmark = pytest.mark.usefixtures("cached")


def test_identical_call_within_ttl_makes_no_sts_call(aws, cached, api_calls):
    first = cached.assume_role(ROLE)
    second = cached.assume_role(ROLE)

    assert isinstance(first, cached.Credentials)
    assert second == first
    assert api_calls.count("sts", "AssumeRole") == 1
    assert cached.stats()["sts"]["hits"] == 1
    assert cached.stats()["sts"]["misses"] == 1


def test_twenty_threads_on_a_cold_role_make_one_assume_role_and_share_its_answer(
    aws, cached, api_calls
):
    def hold(**_) -> None:  # keep the first AssumeRole in flight until the others wait on it
        deadline = time.monotonic() + 10
        while cached.stats()["sts"]["hits"] < 19 and time.monotonic() < deadline:
            time.sleep(0.005)

    cached.client("sts").meta.events.register("before-send.sts.AssumeRole", hold)
    barrier, answers = threading.Barrier(20), []

    def ask() -> None:
        barrier.wait(10)
        answers.append(cached.assume_role(ROLE))

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(answers) == 20
    assert len(set(answers)) == 1
    assert api_calls.count("sts", "AssumeRole") == 1


def test_credentials_fields_are_strings_and_an_aware_utc_expiration(aws, cached):
    credentials = cached.assume_role(ROLE)

    assert credentials.access_key_id
    assert credentials.secret_access_key
    assert credentials.session_token
    assert credentials.expiration.utcoffset() == datetime.timedelta(0)
    assert credentials.expiration.tzinfo is datetime.UTC
    remaining = credentials.expiration - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(minutes=55) < remaining <= datetime.timedelta(hours=1)


def test_every_parameter_that_changes_the_answer_is_its_own_entry(aws, cached, api_calls):
    cached.assume_role(ROLE)
    variants = [
        {"role_arn": "arn:aws:iam::123456789012:role/writer"},
        {"role_arn": OTHER_ACCOUNT_ROLE},
        {"role_arn": ROLE, "external_id": "partner-42"},
        {"role_arn": ROLE, "session_name": "nightly-job"},
        {"role_arn": ROLE, "policy": POLICY},
    ]
    for variant in variants:
        cached.assume_role(**variant)
    for variant in variants:
        cached.assume_role(**variant)

    assert api_calls.count("sts", "AssumeRole") == 6
    assert cached.stats()["sts"]["entries"] == 6


def test_region_is_part_of_the_key(aws, cached, api_calls):
    cached.assume_role(ROLE, region="us-east-1")
    cached.assume_role(ROLE, region="eu-west-1")
    cached.assume_role(ROLE)

    assert api_calls.count("sts", "AssumeRole") == 2


def test_credentials_of_another_account_act_in_that_account(moto_endpoint, monkeypatch, cached):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    cached.clear()
    credentials = cached.assume_role(OTHER_ACCOUNT_ROLE, session_name="audit")

    import boto3

    sts = boto3.client(
        "sts",
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    identity = sts.get_caller_identity()
    assert identity["Account"] == "210987654321"
    assert identity["Arn"].endswith(":assumed-role/reader/audit")


def test_ttl_zero_always_calls_sts(aws, cached, api_calls):
    cached.assume_role(ROLE, ttl=0)
    cached.assume_role(ROLE, ttl=0)

    assert api_calls.count("sts", "AssumeRole") == 2
    assert cached.stats()["sts"]["entries"] == 0


def test_900_second_credentials_cache_even_when_the_margin_is_longer(
    aws, cached, api_calls, monkeypatch
):
    # A margin of 900 s would leave nothing of 900-second credentials; half their life is kept.
    monkeypatch.setenv("CACHED_CLIENTS_STS_REFRESH_MARGIN", "900")
    cached.clear()

    first = cached.assume_role(ROLE, duration_seconds=900)
    again = cached.assume_role(ROLE, duration_seconds=900)

    assert again == first
    assert api_calls.count("sts", "AssumeRole") == 1


def test_credentials_with_less_than_the_margin_left_are_never_returned(sts_stand_in, cached):
    # Two seconds of validity: the margin becomes one second (half their life).
    sts_stand_in.lifetime = 2.0
    first = cached.assume_role(ROLE)
    margin = datetime.timedelta(seconds=1)
    assert first.expiration - datetime.datetime.now(datetime.UTC) > margin
    assert cached.assume_role(ROLE) == first
    assert len(sts_stand_in.assume_calls) == 1

    _wait_until_left(first, seconds=0.9)
    later = cached.assume_role(ROLE)

    assert later != first
    assert len(sts_stand_in.assume_calls) == 2
    assert later.expiration - datetime.datetime.now(datetime.UTC) > margin


def test_the_configured_margin_applies_when_it_is_under_half_the_lifetime(
    sts_stand_in, cached, monkeypatch
):
    monkeypatch.setenv("CACHED_CLIENTS_STS_REFRESH_MARGIN", "0.25")
    cached.clear()
    sts_stand_in.lifetime = 2.0
    first = cached.assume_role(ROLE)

    _wait_until_left(first, seconds=0.8)
    assert cached.assume_role(ROLE) == first
    _wait_until_left(first, seconds=0.2)
    assert cached.assume_role(ROLE) != first
    assert len(sts_stand_in.assume_calls) == 2


def _wait_until_left(credentials, seconds: float) -> None:
    left = datetime.timedelta(seconds=seconds)
    while credentials.expiration - datetime.datetime.now(datetime.UTC) > left:
        time.sleep(0.02)


def scenario_credential_lifetimes(clock: _child.Clock) -> dict:
    """Roles assumed, then asked for again at two moments around where their entry should end:
    whether each second call went to STS."""
    import os

    from conftest import StsStandIn

    sts = StsStandIn()
    sts.start()
    os.environ["AWS_ENDPOINT_URL_STS"] = sts.url
    import cached_clients

    def refetched(name: str, ttl: float, offsets: tuple[float, float]) -> list[bool]:
        role, start, seen = f"arn:aws:iam::123456789012:role/{name}", clock.now, []
        cached_clients.assume_role(role, ttl=ttl)
        for offset in offsets:
            clock.now, calls = start + offset, len(sts.assume_calls)
            cached_clients.assume_role(role, ttl=ttl)
            seen.append(len(sts.assume_calls) > calls)
        return seen

    # 3600-second credentials less the 300-second margin leave 3300 s, whatever the TTL.
    outcome = {
        "ttl": refetched("ttl", 100, (49.9, 100)),
        "margin": refetched("margin", 1e5, (3299.5, 3300)),
    }
    os.environ["CACHED_CLIENTS_STS_REFRESH_MARGIN"] = "600"
    cached_clients.clear()
    outcome["configured margin"] = refetched("configured", 1e5, (2999.5, 3000))
    sts.lifetime = 900.0  # a margin of 600 s would leave 300 s; half the lifetime leaves 450
    outcome["half the lifetime"] = refetched("short", 1e5, (449.5, 450))
    return outcome


def test_credentials_live_until_the_ttl_or_the_refresh_margin_whichever_comes_first():
    outcome = _child.run("test_sts:scenario_credential_lifetimes")

    assert outcome == {
        "ttl": [False, True],
        "margin": [False, True],
        "configured margin": [False, True],
        "half the lifetime": [False, True],
    }


def test_sts_gets_every_parameter(sts_stand_in, cached):
    cached.assume_role(
        ROLE, session_name="job-7", external_id="partner-42", duration_seconds=900, policy=POLICY
    )

    (request,) = sts_stand_in.assume_calls
    assert request["Action"] == "AssumeRole"
    assert request["RoleArn"] == ROLE
    assert request["RoleSessionName"] == "job-7"
    assert request["ExternalId"] == "partner-42"
    assert request["DurationSeconds"] == "900"
    assert request["Policy"] == POLICY


def test_an_sts_error_propagates_unchanged_and_is_not_cached(sts_stand_in, cached):
    sts_stand_in.error_code = "AccessDenied"

    with pytest.raises(ClientError) as first:
        cached.assume_role(ROLE)
    with pytest.raises(ClientError):
        cached.assume_role(ROLE)

    assert first.value.response["Error"]["Code"] == "AccessDenied"
    assert len(sts_stand_in.assume_calls) == 2
    assert cached.stats()["sts"]["entries"] == 0


@pytest.mark.parametrize(
    ("function_name", "expected"),
    [
        ("orders-api_prod", "orders-api_prod"),
        ("my function/v2:live", "my-function-v2-live"),
        ("f" * 70, "f" * 64),
        ("x", "cached-clients"),
        (None, "cached-clients"),
    ],
)
def test_default_session_name_comes_from_the_function_name(
    sts_stand_in, cached, monkeypatch, function_name, expected
):
    if function_name is None:
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name)
    cached.clear()

    cached.assume_role(ROLE)

    assert sts_stand_in.assume_calls[0]["RoleSessionName"] == expected


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"role_arn": "reader"}, ValueError, "role_arn"),
        ({"role_arn": "arn:aws:iam::12345:role/reader"}, ValueError, "12-digit"),
        ({"role_arn": "arn:aws:iam::123456789012:user/reader"}, ValueError, "role_arn"),
        ({"role_arn": "arn:aws:s3:::bucket"}, ValueError, "role_arn"),
        ({"role_arn": None}, TypeError, "role_arn"),
        ({"role_arn": ROLE, "session_name": "x"}, ValueError, "2-64"),
        ({"role_arn": ROLE, "session_name": "s" * 65}, ValueError, "2-64"),
        ({"role_arn": ROLE, "session_name": "has space"}, ValueError, "session_name"),
        ({"role_arn": ROLE, "session_name": 7}, TypeError, "session_name"),
        ({"role_arn": ROLE, "duration_seconds": 899}, ValueError, "900 and 43200"),
        ({"role_arn": ROLE, "duration_seconds": 43201}, ValueError, "900 and 43200"),
        ({"role_arn": ROLE, "duration_seconds": True}, TypeError, "duration_seconds"),
        ({"role_arn": ROLE, "duration_seconds": "3600"}, TypeError, "duration_seconds"),
        ({"role_arn": ROLE, "external_id": "x"}, ValueError, "external_id"),
        ({"role_arn": ROLE, "external_id": 42}, TypeError, "external_id"),
        ({"role_arn": ROLE, "policy": {"Version": "2012-10-17"}}, TypeError, "policy"),
        ({"role_arn": ROLE, "policy": "not json"}, ValueError, "policy"),
        ({"role_arn": ROLE, "ttl": -1}, ValueError, "ttl"),
        ({"role_arn": ROLE, "ttl": "300"}, TypeError, "ttl"),
        ({"role_arn": ROLE, "region": ""}, TypeError, "region"),
    ],
)
@pytest.mark.usefixtures("aws")
def test_bad_input_raises_before_any_request(cached, api_calls, arguments, error, words):
    cached.assume_role(ROLE)
    before = cached.stats()

    with pytest.raises(error, match=words):
        cached.assume_role(**arguments)

    assert api_calls.count() == 1
    assert cached.stats() == before


# Equal to 900 and hashing alike, but not an int: refused whatever was asked for before.
EQUAL_BUT_NOT_INT = pytest.mark.parametrize(
    "duration", [900.0, Decimal(900), Fraction(900)], ids=["float", "Decimal", "Fraction"]
)


@EQUAL_BUT_NOT_INT
@pytest.mark.usefixtures("aws")
def test_a_duration_equal_to_a_valid_one_is_refused_after_it_too(cached, api_calls, duration):
    with pytest.raises(TypeError, match="duration_seconds must be an int"):
        cached.assume_role(ROLE, duration_seconds=duration)
    cached.assume_role(ROLE, duration_seconds=900)
    before = cached.stats()

    with pytest.raises(TypeError, match="duration_seconds must be an int"):
        cached.assume_role(ROLE, duration_seconds=duration)

    assert api_calls.count() == 1
    assert cached.stats() == before


def test_repr_and_logs_never_show_a_credential(sts_stand_in, cached, caplog):
    caplog.set_level(logging.DEBUG, logger="cached_clients")
    sts_stand_in.lifetime = 2.0
    credentials = cached.assume_role(ROLE)
    session = cached.role_session(ROLE, session_name="other")
    session.client("sts").get_caller_identity()

    shown = repr(credentials) + str(credentials) + repr(cached.stats())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records
    for secret in ("secret-1-", "token-1-", "secret-2-", "token-2-", credentials.access_key_id):
        assert secret not in shown
        assert secret not in logged
    assert "***" in repr(credentials)


def test_credentials_are_frozen_and_compare_by_value(aws, cached):
    credentials = cached.assume_role(ROLE)

    with pytest.raises(AttributeError):
        credentials.session_token = "changed"
    with pytest.raises(AttributeError):
        del credentials.access_key_id
    assert pickle.loads(pickle.dumps(credentials)) == credentials
    assert len({credentials, cached.assume_role(ROLE)}) == 1


AWARE = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("fields", "error", "words"),
    [
        (("AKIA", "secret", "token", "2030-01-01T00:00:00Z"), TypeError, "expiration"),
        (("AKIA", "secret", "token", None), TypeError, "expiration"),
        ((None, "secret", "token", AWARE), TypeError, "access_key_id"),
        (("AKIA", b"secret", "token", AWARE), TypeError, "secret_access_key"),
        (("AKIA", "secret", "token", datetime.datetime(2030, 1, 1)), ValueError, "aware"),
    ],
)
def test_credentials_made_by_hand_refuse_fields_of_the_wrong_type(fields, error, words, cached):
    # Credentials is public, so a test double may build one; a wrong field says which.
    with pytest.raises(error, match=words):
        cached.Credentials(*fields)
