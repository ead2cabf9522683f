"""The runtime through Lambda's lifecycle: SnapStart restores, forks, freezes, a thread count.

Each test runs a scenario in a fresh interpreter (see _child), against moto's server over
HTTP, on a monotonic clock that only the scenario moves.
"""

import sys

import _child
import boto3
import pytest
from _tables import hash_key_table

ROLE = "arn:aws:iam::210987654321:role/reader"
KEYS = ("k0", "k1", "k2", "k3")
TTL = 100.0
STEP = 0.25


@pytest.fixture
def server(moto_endpoint: str) -> dict[str, str]:
    """moto's server with a table "items" holding KEYS; the environment a scenario needs."""
    table = hash_key_table(boto3.resource("dynamodb", endpoint_url=moto_endpoint), "items")
    for key in KEYS:
        table.put_item(Item={"pk": key, "value": f"value of {key}"})
    return {"AWS_ENDPOINT_URL": moto_endpoint}


def _network_events() -> list[str]:
    """A list that fills with every socket connect and name lookup of this process."""
    events: list[str] = []

    def record(event: str, _args: tuple) -> None:
        if event in ("socket.connect", "socket.getaddrinfo"):
            events.append(event)

    sys.addaudithook(record)
    return events


def _warm(cached) -> None:
    for key in KEYS:
        cached.get_item("items", {"pk": key})
    cached.assume_role(ROLE)


def _lifetimes(cached, clock: _child.Clock) -> list[float]:
    """Read every key once, then step the clock until each has been fetched again: the
    seconds each entry lived, to STEP."""
    start = clock.now
    for key in KEYS:
        cached.get_item("items", {"pk": key}, ttl=TTL)

    lived = {}
    while len(lived) < len(KEYS) and clock.now - start <= TTL + STEP:
        clock.advance(STEP)
        for key in KEYS:
            if key in lived:
                continue
            misses = cached.stats()["dynamodb"]["misses"]
            cached.get_item("items", {"pk": key}, ttl=TTL)
            if cached.stats()["dynamodb"]["misses"] > misses:
                lived[key] = round(clock.now - start, 2)
    return [lived.get(key, -1.0) for key in KEYS]


# SnapStart


def scenario_restore(clock: _child.Clock) -> dict:
    """Warm, then fork twice as two restores that run the hooks, and twice without them."""
    import cached_clients
    import snapshot_restore_py

    _warm(cached_clients)
    parent_client = cached_clients.client("dynamodb")

    def restored(run_hooks: bool) -> dict:
        before = cached_clients.stats()
        network = _network_events()
        if run_hooks:
            # As Lambda's runtime interface client runs them after a restore.
            for function, args, kwargs in snapshot_restore_py.get_after_restore():
                function(*args, **kwargs)
        else:
            cached_clients.clear()
        return {
            "network_in_hooks": len(network),
            "entries_before": {name: held["entries"] for name, held in before.items()},
            "entries_after": {
                name: held["entries"] for name, held in cached_clients.stats().items()
            },
            "new_client": cached_clients.client("dynamodb") is not parent_client,
            "lifetimes": _lifetimes(cached_clients, clock),
        }

    return {
        "hooks": len(snapshot_restore_py.get_after_restore()),
        "restored": [_child.fork(lambda: restored(True)).result() for _ in range(2)],
        "unrestored": [_child.fork(lambda: restored(False)).result() for _ in range(2)],
    }


def test_two_restores_from_one_snapshot_start_empty_with_new_clients_and_draw_apart(server):
    outcome = _child.run("test_lifecycle:scenario_restore", env=server)

    assert outcome["hooks"] == 1
    first, second = outcome["restored"]
    for child in (first, second):
        assert child["network_in_hooks"] == 0
        assert child["entries_before"] == {"sts": 1, "dynamodb": len(KEYS)}
        assert child["entries_after"] == {"sts": 0, "dynamodb": 0}
        assert child["new_client"]
        assert all(0.5 * TTL <= lived <= TTL + STEP for lived in child["lifetimes"])
    assert first["lifetimes"] != second["lifetimes"]

    # Without the hooks, two forks of one process draw the very same lifetimes: what pulls the
    # restored ones apart is the hook's reseed.
    unrestored = outcome["unrestored"]
    assert unrestored[0]["lifetimes"] == unrestored[1]["lifetimes"]


def scenario_without_snapshot_restore(clock: _child.Clock) -> dict:
    """Import and use cached_clients where snapshot_restore_py cannot be imported."""
    sys.modules["snapshot_restore_py"] = None  # makes "import snapshot_restore_py" fail

    import cached_clients

    item = cached_clients.get_item("items", {"pk": "k0"})
    del sys.modules["snapshot_restore_py"]
    import snapshot_restore_py

    return {"item": item, "hooks": len(snapshot_restore_py.get_after_restore())}


def scenario_on_demand(clock: _child.Clock) -> dict:
    """Import cached_clients in an environment that is never restored from a snapshot."""
    import cached_clients

    item = cached_clients.get_item("items", {"pk": "k0"})
    loaded = "snapshot_restore_py" in sys.modules
    import snapshot_restore_py

    return {"item": item, "loaded": loaded, "hooks": len(snapshot_restore_py.get_after_restore())}


def test_without_snapshot_restore_py_nothing_is_registered_and_nothing_fails(server):
    outcome = _child.run("test_lifecycle:scenario_without_snapshot_restore", env=server)

    assert outcome == {"item": {"pk": "k0", "value": "value of k0"}, "hooks": 0}


@pytest.mark.parametrize("initialization", ["on-demand", "provisioned-concurrency"])
def test_an_environment_never_restored_registers_no_hook_and_skips_the_import(
    server, initialization
):
    env = {**server, "AWS_LAMBDA_INITIALIZATION_TYPE": initialization}

    outcome = _child.run("test_lifecycle:scenario_on_demand", env=env)

    assert outcome == {"item": {"pk": "k0", "value": "value of k0"}, "loaded": False, "hooks": 0}


# Fork


def _block_client_creation(cached, entered, release):
    """Create an SQS client in a thread that stops inside boto3, holding the library's lock."""
    import threading

    def tracer(frame, event, _arg):
        if event == "call" and frame.f_code.co_name == "create_client":
            entered.set()
            release.wait(30)

    def make() -> None:
        sys.settrace(tracer)
        cached.client("sqs")

    thread = threading.Thread(target=make, daemon=True)
    thread.start()
    assert entered.wait(30), "client creation never started"
    return thread


def _block_get_item(cached, key, entered, release):
    """Read key in a thread whose request stops just before it is sent."""
    import threading

    def hold(request, **_) -> None:
        if f'"{key}"'.encode() in request.body:
            entered.set()
            release.wait(30)

    cached.client("dynamodb").meta.events.register("before-send.dynamodb.GetItem", hold)
    found = []
    thread = threading.Thread(
        target=lambda: found.append(cached.get_item("items", {"pk": key})), daemon=True
    )
    thread.start()
    assert entered.wait(30), "the read never started"
    return thread, found


def scenario_fork(clock: _child.Clock) -> dict:
    """Fork while one thread is inside a GetItem and another makes a client; the child reads
    through new clients while the parent keeps reading through its own."""
    import threading

    import cached_clients

    cached_clients.get_item("items", {"pk": "k0"})
    parent_client = cached_clients.client("dynamodb")
    in_flight, release_flight = threading.Event(), threading.Event()
    reader, read = _block_get_item(cached_clients, "k1", in_flight, release_flight)
    creating, release_creation = threading.Event(), threading.Event()
    maker = _block_client_creation(cached_clients, creating, release_creation)

    def child() -> dict:
        network = _network_events()
        misses = cached_clients.stats()["dynamodb"]["misses"]
        cached = cached_clients.get_item("items", {"pk": "k0"})
        from_cache = cached_clients.stats()["dynamodb"]["misses"] == misses
        client = cached_clients.client("dynamodb")
        return {
            "k0": cached,
            "k0_from_cache": from_cache,
            "new_client": client is not parent_client,
            "k1": cached_clients.get_item("items", {"pk": "k1"}),
            "k2": cached_clients.get_item("items", {"pk": "k2"}),
            "connected": network.count("socket.connect"),
            "sqs": cached_clients.client("sqs").meta.service_model.service_name,
        }

    forked = _child.fork(child)
    parent_reads = [
        cached_clients.get_item("items", {"pk": "k3"}, consistent_read=True)["value"]
        for _ in range(20)
    ]
    release_flight.set()
    release_creation.set()
    reader.join(30)
    maker.join(30)
    return {
        "child": forked.result(),
        "parent_reads": sorted(set(parent_reads)),
        "parent_k1": read,
        "parent_client_kept": cached_clients.client("dynamodb") is parent_client,
    }


def test_a_forked_child_reads_through_new_clients_while_the_parent_keeps_working(server):
    outcome = _child.run("test_lifecycle:scenario_fork", env=server)

    child = outcome["child"]
    assert child["new_client"]
    assert child["connected"] >= 1
    assert child["k0"] == {"pk": "k0", "value": "value of k0"}
    assert child["k0_from_cache"]
    assert child["k1"] == {"pk": "k1", "value": "value of k1"}
    assert child["k2"] == {"pk": "k2", "value": "value of k2"}
    assert child["sqs"] == "sqs"
    assert outcome["parent_reads"] == ["value of k3"]
    assert outcome["parent_k1"] == [{"pk": "k1", "value": "value of k1"}]
    assert outcome["parent_client_kept"]


# No threads, no timers; a frozen environment thawed later


def scenario_heavy_use_then_thaw(clock: _child.Clock) -> dict:
    """Use every part of the library many times, then jump the clock by an hour."""
    import signal
    import threading

    import cached_clients

    threads = threading.active_count()
    session = cached_clients.role_session(ROLE, session_name="kept")
    for _ in range(200):
        for key in KEYS:
            cached_clients.get_item("items", {"pk": key})
            cached_clients.get_item("items", {"pk": key}, attributes=["value"])
        cached_clients.assume_role(ROLE)
        cached_clients.client("sts", role_arn=ROLE)
        cached_clients.stats()
        clock.advance(7)
    for _ in range(5):
        cached_clients.get_item("items", {"pk": "k0"}, consistent_read=True)
        session.client("sts").get_caller_identity()
    used = {
        "threads": threading.active_count() - threads,
        "timer": signal.getitimer(signal.ITIMER_REAL),
    }

    before = cached_clients.stats()
    clock.advance(3600)
    credentials = cached_clients.assume_role(ROLE)
    item = cached_clients.get_item("items", {"pk": "k0"})
    thawed = cached_clients.stats()
    cached_clients.assume_role(ROLE)
    cached_clients.get_item("items", {"pk": "k0"})
    after = cached_clients.stats()
    return {
        **used,
        "item": item,
        "credentials": credentials.access_key_id != "",
        "first_calls_went_upstream": [
            thawed[name]["misses"] - before[name]["misses"] for name in ("sts", "dynamodb")
        ],
        "second_calls_were_hits": [
            after[name]["hits"] - thawed[name]["hits"] for name in ("sts", "dynamodb")
        ],
    }


def test_no_thread_or_timer_is_started_and_a_thawed_environment_refreshes_at_once(server):
    outcome = _child.run("test_lifecycle:scenario_heavy_use_then_thaw", env=server)

    assert outcome["threads"] == 0
    assert outcome["timer"] == [0.0, 0.0]
    assert outcome["item"] == {"pk": "k0", "value": "value of k0"}
    assert outcome["credentials"]
    assert outcome["first_calls_went_upstream"] == [1, 1]
    assert outcome["second_calls_were_hits"] == [1, 1]
