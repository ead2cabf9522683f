"""role_session: boto3 sessions whose credentials refresh themselves from the STS cache."""

import datetime
import logging
import time
from decimal import Decimal

import boto3
import pytest

ROLE = "arn:aws:iam::123456789012:role/reader"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/reader"

pytestmark = pytest.mark.usefixtures("cached")


def test_making_a_session_calls_nothing_and_its_first_request_assumes_the_role(
    aws, cached, api_calls
):
    session = cached.role_session(ROLE, session_name="first-use")

    assert isinstance(session, boto3.Session)
    assert api_calls.count() == 0

    sts = session.client("sts")
    arn = sts.get_caller_identity()["Arn"]
    sts.get_caller_identity()

    assert arn.endswith(":assumed-role/reader/first-use")
    assert api_calls.by_operation() == {"AssumeRole": 1, "GetCallerIdentity": 2}


def test_session_shares_the_assume_role_cache(aws, cached, api_calls):
    credentials = cached.assume_role(ROLE)
    session = cached.role_session(ROLE)

    frozen = session.get_credentials().get_frozen_credentials()

    assert frozen.access_key == credentials.access_key_id
    assert frozen.token == credentials.session_token
    assert api_calls.count("sts", "AssumeRole") == 1


def test_session_region_defaults_like_boto3_and_follows_the_argument(aws, cached):
    assert cached.role_session(ROLE).region_name == "us-east-1"
    assert cached.role_session(ROLE, region="eu-central-1").region_name == "eu-central-1"


def test_900_second_credentials_are_not_refreshed_on_every_request(aws, cached, api_calls, caplog):
    # botocore's own windows (15 and 10 minutes) would call the fetcher before every request.
    caplog.set_level(logging.WARNING)
    session = cached.role_session(ROLE, duration_seconds=900)
    sts = session.client("sts")

    for _ in range(5):
        sts.get_caller_identity()

    assert api_calls.count("sts", "AssumeRole") == 1
    sts_stats = cached.stats()["sts"]
    assert (sts_stats["misses"], sts_stats["hits"]) == (1, 0)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


KEPT_IN_A_MODULE_GLOBAL = {}


def test_a_session_kept_for_later_keeps_working_after_its_credentials_expire(
    sts_stand_in, cached, caplog
):
    # Two-second credentials: the margin is one second, so they are replaced after one.
    caplog.set_level(logging.WARNING)
    sts_stand_in.lifetime = 2.0
    KEPT_IN_A_MODULE_GLOBAL["session"] = cached.role_session(ROLE)
    sts = KEPT_IN_A_MODULE_GLOBAL["session"].client("sts")

    sts.get_caller_identity()
    time.sleep(2.2)
    sts.get_caller_identity()
    sts.get_caller_identity()

    first, second, third = sts_stand_in.signed_by
    assert first != second
    assert second == third
    assert len(sts_stand_in.assume_calls) == 2
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def _wait_until_left(credentials, seconds: float) -> None:
    left = datetime.timedelta(seconds=seconds)
    while credentials.expiration - datetime.datetime.now(datetime.UTC) > left:
        time.sleep(0.02)


def test_a_kept_session_signs_with_new_credentials_once_less_than_the_margin_is_left(
    sts_stand_in, cached
):
    # Two-second credentials: the margin is one second, half their life.
    sts_stand_in.lifetime = 2.0
    sts = cached.role_session(ROLE).client("sts")
    sts.get_caller_identity()
    first = cached.assume_role(ROLE)  # the same entry: what the session signed with

    _wait_until_left(first, seconds=0.9)
    sts.get_caller_identity()

    assert sts_stand_in.signed_by[0] == first.access_key_id
    assert sts_stand_in.signed_by[1] != first.access_key_id
    assert len(sts_stand_in.assume_calls) == 2


def test_a_kept_session_raises_a_failed_refresh_once_less_than_the_margin_is_left(
    sts_stand_in, cached, monkeypatch
):
    from botocore.exceptions import ClientError

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's own retries would sleep
    cached.clear()
    sts_stand_in.lifetime = 2.0
    sts = cached.role_session(ROLE).client("sts")
    sts.get_caller_identity()
    first = cached.assume_role(ROLE)
    sts_stand_in.error_code, sts_stand_in.error_status = "Throttling", 400

    _wait_until_left(first, seconds=0.9)
    with pytest.raises(ClientError) as raised:
        sts.get_caller_identity()

    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert sts_stand_in.signed_by == [first.access_key_id]


def test_role_session_against_moto_server_reads_the_other_account(
    moto_endpoint, monkeypatch, cached, api_calls
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    cached.clear()
    session = cached.role_session(OTHER_ACCOUNT_ROLE, session_name="over-http")

    identity = session.client("sts").get_caller_identity()
    session.client("sts").get_caller_identity()

    assert identity["Account"] == "210987654321"
    assert identity["Arn"].endswith(":assumed-role/reader/over-http")
    assert api_calls.count("sts", "AssumeRole") == 1


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"role_arn": "not-an-arn"}, ValueError),
        ({"role_arn": ROLE, "session_name": "a b"}, ValueError),
        ({"role_arn": ROLE, "duration_seconds": 60}, ValueError),
        ({"role_arn": ROLE, "ttl": -5}, ValueError),
    ],
)
def test_bad_input_raises_before_any_request(aws, cached, api_calls, arguments, error):
    with pytest.raises(error):
        cached.role_session(**arguments)

    assert api_calls.count() == 0


@pytest.mark.parametrize("duration", [900.0, Decimal(900)], ids=["float", "Decimal"])
def test_a_duration_equal_to_a_valid_one_is_refused_after_it_too(aws, cached, api_calls, duration):
    with pytest.raises(TypeError, match="duration_seconds must be an int"):
        cached.role_session(ROLE, duration_seconds=duration)
    cached.role_session(ROLE, duration_seconds=900).client("sts").get_caller_identity()
    requests = api_calls.count()

    with pytest.raises(TypeError, match="duration_seconds must be an int"):
        cached.role_session(ROLE, duration_seconds=duration)

    assert api_calls.count() == requests
