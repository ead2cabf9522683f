"""client(): one cached boto3 client per service, region, endpoint and credentials identity."""

import io
import json
import threading
from decimal import Decimal

import pytest

ROLE = "arn:aws:iam::123456789012:role/reader"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/reader"

pytestmark = pytest.mark.usefixtures("cached")


def test_same_arguments_give_the_same_client(aws, cached):
    first = cached.client("dynamodb")

    assert cached.client("dynamodb") is first
    assert cached.client("dynamodb", region="us-east-1") is first
    assert first.meta.region_name == "us-east-1"


def test_each_service_region_endpoint_and_identity_gets_its_own_client(aws, cached):
    clients = [
        cached.client("dynamodb"),
        cached.client("sts"),
        cached.client("dynamodb", region="eu-west-1"),
        cached.client("dynamodb", endpoint_url="http://127.0.0.1:1"),
        cached.client("dynamodb", role_arn=ROLE),
        cached.client("dynamodb", role_arn=OTHER_ACCOUNT_ROLE),
        cached.client("dynamodb", role_arn=ROLE, session_name="another"),
        cached.client("dynamodb", role_arn=ROLE, external_id="partner-42"),
    ]

    assert len({id(client) for client in clients}) == len(clients)
    assert clients[2].meta.region_name == "eu-west-1"
    assert clients[3].meta.endpoint_url == "http://127.0.0.1:1"


def test_region_comes_from_aws_region_then_aws_default_region(aws, cached, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    cached.clear()
    assert cached.client("dynamodb").meta.region_name == "ap-southeast-2"

    monkeypatch.delenv("AWS_REGION")
    cached.clear()
    assert cached.client("dynamodb").meta.region_name == "us-west-2"


def test_boto3_endpoint_settings_are_honoured(aws, cached, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:3")
    cached.clear()

    assert cached.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:3"
    assert cached.client("sts").meta.endpoint_url == "http://127.0.0.1:2"


def test_a_role_client_uses_the_role(aws, cached, api_calls):
    sts = cached.client("sts", role_arn=OTHER_ACCOUNT_ROLE, session_name="as-role")

    identity = sts.get_caller_identity()

    assert identity["Account"] == "210987654321"
    assert identity["Arn"].endswith(":assumed-role/reader/as-role")
    assert api_calls.count("sts", "AssumeRole") == 1


def test_24_threads_asking_at_once_share_one_client_and_one_assume_role(
    moto_endpoint, monkeypatch, cached, api_calls
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    cached.clear()
    barrier = threading.Barrier(24)
    clients, errors = [], []

    def ask() -> None:
        try:
            barrier.wait()
            client = cached.client("dynamodb", role_arn=OTHER_ACCOUNT_ROLE)
            client.list_tables()
            clients.append(client)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(clients) == 24
    assert len({id(client) for client in clients}) == 1
    assert api_calls.count("sts", "AssumeRole") == 1
    assert api_calls.count("dynamodb", "ListTables") == 24


KEPT_CLIENTS = 32  # what README promises: the clients made last are kept, no more


def test_the_clients_made_last_are_kept_and_older_ones_made_anew(aws, cached, api_calls):
    # A role per tenant would otherwise keep a botocore session per tenant, forever.
    def tenant(number: int) -> object:
        return cached.client("dynamodb", role_arn=ROLE, session_name=f"tenant-{number}")

    first = tenant(0)
    made = [tenant(number) for number in range(1, KEPT_CLIENTS + 1)]

    assert [tenant(number) for number in range(2, KEPT_CLIENTS + 1)] == made[1:]
    assert tenant(0) is not first
    assert api_calls.count() == 0


def test_a_client_already_handed_out_keeps_working_after_it_is_dropped(
    moto_endpoint, monkeypatch, cached, api_calls
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    cached.clear()
    kept = cached.client("sts", role_arn=OTHER_ACCOUNT_ROLE, session_name="kept")
    for number in range(KEPT_CLIENTS):
        cached.client("sts", role_arn=ROLE, session_name=f"tenant-{number}")

    identity = kept.get_caller_identity()

    assert identity["Arn"].endswith(":assumed-role/reader/kept")
    assert cached.client("sts", role_arn=OTHER_ACCOUNT_ROLE, session_name="kept") is not kept


def test_clear_drops_every_client(aws, cached):
    default, role = cached.client("dynamodb"), cached.client("dynamodb", role_arn=ROLE)

    cached.clear()

    assert cached.client("dynamodb") is not default
    assert cached.client("dynamodb", role_arn=ROLE) is not role


def test_clients_are_reused_even_when_caching_is_disabled(aws, cached, monkeypatch):
    monkeypatch.setenv("CACHED_CLIENTS_DISABLE", "1")
    cached.clear()

    assert cached.client("dynamodb") is cached.client("dynamodb")


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"service_name": ""}, TypeError, "service_name"),
        ({"service_name": None}, TypeError, "service_name"),
        ({"service_name": "sts", "region": 5}, TypeError, "region"),
        ({"service_name": "sts", "endpoint_url": "127.0.0.1:9"}, ValueError, "endpoint_url"),
        ({"service_name": "sts", "role_arn": "arn:aws:iam::1:role/x"}, ValueError, "role_arn"),
        ({"service_name": "sts", "session_name": "orphan"}, TypeError, "need role_arn"),
        ({"service_name": "sts", "role_arn": ROLE, "sesion_name": "typo"}, TypeError, "sesion"),
        ({"service_name": "sts", "role_arn": ROLE, "ttl": 5}, TypeError, "ttl"),
        ({"service_name": "sts", "role_arn": ROLE, "duration_seconds": 5}, ValueError, "900"),
    ],
)
@pytest.mark.usefixtures("aws")
def test_bad_input_raises_before_any_request(cached, api_calls, arguments, error, words):
    with pytest.raises(error, match=words):
        cached.client(**arguments)

    assert api_calls.count() == 0


@pytest.mark.parametrize("duration", [900.0, Decimal(900)], ids=["float", "Decimal"])
def test_a_duration_equal_to_a_valid_one_is_refused_after_it_too(aws, cached, api_calls, duration):
    with pytest.raises(TypeError, match="duration_seconds must be an int"):
        cached.client("s3", role_arn=ROLE, duration_seconds=duration)
    made = cached.client("s3", role_arn=ROLE, duration_seconds=900)

    with pytest.raises(TypeError, match="duration_seconds must be an int"):
        cached.client("s3", role_arn=ROLE, duration_seconds=duration)

    assert cached.client("s3", role_arn=ROLE, duration_seconds=900) is made
    assert api_calls.count() == 0


@pytest.mark.parametrize("service", ["dynamodb", "s3", "secretsmanager"])
def test_clients_have_the_models_that_boto3s_clients_have(aws, cached, service):
    import boto3

    ours = cached.client(service).meta.service_model
    theirs = boto3.Session().client(service).meta.service_model

    assert ours.operation_names == theirs.operation_names
    assert ours.shape_names == theirs.shape_names
    # s3 and secretsmanager have sdk-extras merged into their models: those must be there too.
    # JSON text compares every member in its order, which dict == OrderedDict would not.
    assert json.dumps(ours._service_description) == json.dumps(theirs._service_description)


@pytest.mark.parametrize(
    "name", ["no-such-service", "DynamoDB", "dynamodb/2012-08-10", "../data/dynamodb"]
)
def test_a_service_botocore_does_not_know_raises_its_unknown_service_error(aws, cached, name):
    import boto3
    from botocore.exceptions import UnknownServiceError

    with pytest.raises(UnknownServiceError) as ours:
        cached.client(name)
    with pytest.raises(UnknownServiceError) as theirs:
        boto3.Session().client(name)

    assert str(ours.value) == str(theirs.value)
    assert "dynamodb" in str(ours.value)


def test_models_on_aws_data_path_come_first_as_in_boto3(aws, cached, monkeypatch, tmp_path):
    import boto3
    import botocore.loaders

    model = botocore.loaders.Loader().load_service_model("dynamodb", "service-2")
    model["documentation"] = "dynamodb as AWS_DATA_PATH has it"
    version = tmp_path / "dynamodb" / model["metadata"]["apiVersion"]
    version.mkdir(parents=True)
    (version / "service-2.json").write_text(json.dumps(model), encoding="utf-8")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    cached.clear()

    ours = cached.client("dynamodb").meta.service_model
    theirs = boto3.Session().client("dynamodb").meta.service_model

    assert ours.documentation == theirs.documentation == "dynamodb as AWS_DATA_PATH has it"


_CALLS = {"dynamodb": "list_tables", "sts": "get_caller_identity", "s3": "list_buckets"}


def _user_agent(client) -> str:
    """The User-Agent of the client's next request, but for the m/ list of features used,
    which says how that request found its credentials (here, or at the client's making)."""
    sent = []
    client.meta.events.register(
        "request-created", lambda request, **_: sent.append(request.headers["User-Agent"])
    )
    getattr(client, _CALLS[client.meta.service_model.service_name])()
    return " ".join(part for part in sent[-1].split() if not part.startswith("m/"))


@pytest.mark.parametrize("service", sorted(_CALLS))
def test_clients_send_the_user_agent_of_boto3s_clients(aws, cached, service):
    import boto3

    ours = _user_agent(cached.client(service))

    assert ours.startswith("Boto3/")
    assert ours == _user_agent(boto3.Session().client(service))


def test_a_role_client_sends_the_user_agent_of_a_role_sessions_client(aws, cached):
    ours = _user_agent(cached.client("sts", role_arn=ROLE))

    assert ours == _user_agent(cached.role_session(ROLE).client("sts"))


def test_s3_clients_have_boto3s_transfer_methods_after_a_dynamodb_client_too(aws, cached):
    cached.client("dynamodb")
    s3 = cached.client("s3")
    s3.create_bucket(Bucket="transfers")

    s3.upload_fileobj(io.BytesIO(b"payload"), "transfers", "key")
    received = io.BytesIO()
    s3.download_fileobj("transfers", "key", received)

    assert received.getvalue() == b"payload"
