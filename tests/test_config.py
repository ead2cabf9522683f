"""Settings from the environment: defaults, read once per process, malformed values refused."""

import boto3
import pytest
from _tables import hash_key_table

ROLE = "arn:aws:iam::123456789012:role/reader"

pytestmark = pytest.mark.usefixtures("cached")


@pytest.fixture
def table(aws):
    """A table "items" (hash key pk) with one small item."""
    created = hash_key_table(boto3.resource("dynamodb"), "items")
    created.put_item(Item={"pk": "a"})
    return created


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CACHED_CLIENTS_TTL", "five minutes"),
        ("CACHED_CLIENTS_TTL", "-1"),
        ("CACHED_CLIENTS_TTL", "inf"),
        ("CACHED_CLIENTS_MAX_BYTES", "4MB"),
        ("CACHED_CLIENTS_MAX_BYTES", "-5"),
        ("CACHED_CLIENTS_MAX_BYTES", "1.5"),
        ("CACHED_CLIENTS_STS_REFRESH_MARGIN", "soon"),
        ("CACHED_CLIENTS_STALE_IF_ERROR", "a minute"),
        ("CACHED_CLIENTS_STALE_IF_ERROR", "-60"),
        ("CACHED_CLIENTS_DISABLE", "maybe"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots"),
    ],
)
@pytest.mark.usefixtures("table")
def test_a_malformed_variable_is_an_error_at_first_use_naming_it(
    cached, api_calls, monkeypatch, name, value
):
    monkeypatch.setenv(name, value)
    cached.clear()
    requests = api_calls.count()

    with pytest.raises(ValueError, match=name):
        cached.get_item("items", {"pk": "a"})
    with pytest.raises(ValueError, match=name):
        cached.assume_role(ROLE)

    assert api_calls.count() == requests


def test_settings_are_read_once_until_clear(table, cached, api_calls, monkeypatch):
    cached.get_item("items", {"pk": "a"})
    monkeypatch.setenv("CACHED_CLIENTS_DISABLE", "1")

    cached.get_item("items", {"pk": "a"})
    assert api_calls.count("dynamodb", "GetItem") == 1

    cached.clear()
    cached.get_item("items", {"pk": "a"})
    cached.get_item("items", {"pk": "a"})
    assert api_calls.count("dynamodb", "GetItem") == 3


def test_disable_bypasses_the_credential_cache_too(aws, cached, api_calls, monkeypatch):
    monkeypatch.setenv("CACHED_CLIENTS_DISABLE", "on")
    cached.clear()

    cached.assume_role(ROLE)
    cached.assume_role(ROLE)

    assert api_calls.count("sts", "AssumeRole") == 2
    assert cached.stats()["sts"]["entries"] == 0


def test_a_ttl_of_zero_in_the_environment_never_caches(table, cached, api_calls, monkeypatch):
    monkeypatch.setenv("CACHED_CLIENTS_TTL", "0")
    cached.clear()

    cached.get_item("items", {"pk": "a"})
    cached.get_item("items", {"pk": "a"})

    assert api_calls.count("dynamodb", "GetItem") == 2


def test_the_ttl_argument_overrides_the_environment(table, cached, api_calls, monkeypatch):
    monkeypatch.setenv("CACHED_CLIENTS_TTL", "0")
    cached.clear()

    cached.get_item("items", {"pk": "a"}, ttl=60)
    cached.get_item("items", {"pk": "a"}, ttl=60)

    assert api_calls.count("dynamodb", "GetItem") == 1


@pytest.mark.parametrize(("memory_mib", "kept"), [("1", False), ("2", True)])
def test_the_default_budget_is_an_eighth_of_the_function_memory(
    table, cached, monkeypatch, memory_mib, kept
):
    # 1 MiB of function memory leaves 128 KiB for items, 2 MiB leaves 256 KiB.
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mib)
    cached.clear()
    table.put_item(Item={"pk": "b", "blob": "x" * 200_000})

    cached.get_item("items", {"pk": "b"})

    assert cached.stats()["dynamodb"]["entries"] == int(kept)


def test_the_max_bytes_variable_wins_over_the_function_memory(table, cached, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1")
    monkeypatch.setenv("CACHED_CLIENTS_MAX_BYTES", "300000")
    cached.clear()
    table.put_item(Item={"pk": "b", "blob": "x" * 200_000})

    cached.get_item("items", {"pk": "b"})

    assert cached.stats()["dynamodb"]["entries"] == 1


def test_without_either_variable_the_budget_is_32_mib(table, cached, monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    cached.clear()
    blob = "x" * 350_000
    for number in range(96):
        table.put_item(Item={"pk": f"big-{number}", "blob": blob})

    for number in range(95):
        cached.get_item("items", {"pk": f"big-{number}"})
    assert cached.stats()["dynamodb"]["evictions"] == 0
    cached.get_item("items", {"pk": "big-95"})

    held = cached.stats()["dynamodb"]
    assert held["evictions"] >= 1
    assert 32 * 1024 * 1024 - 400_000 < held["bytes"] <= 32 * 1024 * 1024
