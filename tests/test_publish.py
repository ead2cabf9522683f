"""``build_layer.sh publish`` against moto's server, and Stubber tests for what moto never does."""

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
from _cli import run_cli
from botocore.stub import Stubber

from layer import aws
from layer.cli import main

REGIONS = ("us-east-1", "eu-west-1")
RUNTIMES = ["python3.11", "python3.12", "python3.13"]
ARCHITECTURES = ["x86_64", "arm64"]
READ_ONLY = {"ListLayerVersions", "GetLayerVersion", "GetLayerVersionPolicy"}


def write_layer(directory: Path, marker: str = "", **manifest_changes) -> Path:
    """A small layer zip laid out like the real one, with a matching manifest beside it."""
    files = {
        "python/cachetools/__init__.py": '__version__ = "8.0.2"\n',
        "python/cached_clients/__init__.py": f'__version__ = "1.0.0"\n{marker}',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), text)
    content = buffer.getvalue()

    directory.mkdir(parents=True, exist_ok=True)
    zip_path = directory / "cached-clients-1.0.0.zip"
    zip_path.write_bytes(content)
    manifest = {
        "name": "cached-clients",
        "version": "1.0.0",
        "distributions": {"cached-clients": "1.0.0", "cachetools": "8.0.2"},
        "compatible_runtimes": RUNTIMES,
        "compatible_architectures": ARCHITECTURES,
        "files": [
            {"path": name, "size": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}
            for name, text in files.items()
        ],
        "unzipped_bytes": sum(len(text) for text in files.values()),
        "zip_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "code_sha256": base64.b64encode(hashlib.sha256(content).digest()).decode(),
        "license": "MIT",
        "zip": zip_path.name,
        **manifest_changes,
    }
    zip_path.with_suffix(".json").write_text(json.dumps(manifest), encoding="utf-8")
    return zip_path


def lambda_in(region: str, endpoint: str):
    """A plain boto3 Lambda client on moto's server, to look at what publish left."""
    return boto3.client("lambda", region_name=region, endpoint_url=endpoint)


def policy_statements(endpoint: str, version: int, region: str = "us-east-1") -> list[dict]:
    """The statements of the layer version's policy, as GetLayerVersionPolicy returns them."""
    client = lambda_in(region, endpoint)
    policy = client.get_layer_version_policy(LayerName="cached-clients", VersionNumber=version)
    return json.loads(policy["Policy"])["Statement"]


def test_publish_once_per_content_in_each_region_and_share_once(
    moto_endpoint: str, tmp_path: Path
) -> None:
    first = write_layer(tmp_path / "first")
    where = ["--region", REGIONS[0], "--region", REGIONS[1], "--endpoint-url", moto_endpoint]
    shares = ["--share-with", "111122223333", "--share-with", "o-abcdefghij12", "--share-with"]

    published = run_cli("publish", *where, "--zip", str(first))
    again = run_cli("publish", *where, "--zip", str(first), *shares, "public")
    shared_again = run_cli("publish", *where, "--zip", str(first), *shares, "public")
    changed = run_cli("publish", *where, "--zip", str(write_layer(tmp_path / "second", "#")))

    for ran in (published, again, shared_again, changed):
        assert ran.returncode == 0, ran
    assert [(r["region"], r["version"], r["published"]) for r in published.json()["regions"]] == [
        ("us-east-1", 1, True),
        ("eu-west-1", 1, True),
    ]
    assert [(r["version"], r["status"]) for r in again.json()["regions"]] == [(1, "unchanged")] * 2
    assert [(r["version"], r["published"]) for r in changed.json()["regions"]] == [(2, True)] * 2
    assert any("publishing cached-clients 1.0.0" in line for line in published.stderr_lines)

    east = published.json()["regions"][0]
    assert east["layer_version_arn"] == (
        "arn:aws:lambda:us-east-1:123456789012:layer:cached-clients:1"
    )
    for region in REGIONS:
        versions = lambda_in(region, moto_endpoint).list_layer_versions(LayerName="cached-clients")
        assert [item["Version"] for item in versions["LayerVersions"]] == [2, 1]

    targets = ["111122223333", "o-abcdefghij12", "public"]
    assert again.json()["regions"][0]["shared_with"] == dict.fromkeys(targets, "added")
    assert shared_again.json()["regions"][1]["shared_with"] == dict.fromkeys(targets, "present")
    statements = policy_statements(moto_endpoint, 1)
    assert sorted(statement["Sid"] for statement in statements) == [
        "cached-clients-111122223333",
        "cached-clients-o-abcdefghij12",
        "cached-clients-public",
    ]
    assert {json.dumps(s["Principal"]) for s in statements} == {'"111122223333"', '"*"'}
    assert all(statement["Action"] == "lambda:GetLayerVersion" for statement in statements)


def test_published_version_carries_the_manifest(moto_endpoint: str, tmp_path: Path) -> None:
    zip_path = write_layer(tmp_path)
    manifest = json.loads(zip_path.with_suffix(".json").read_text())

    code = main(["publish", "--region", "us-east-1", "--endpoint-url", moto_endpoint,
                 "--zip", str(zip_path)])  # fmt: skip

    assert code == 0
    version = lambda_in("us-east-1", moto_endpoint).get_layer_version(
        LayerName="cached-clients", VersionNumber=1
    )
    assert version["Description"] == (
        f"cached-clients 1.0.0 with cachetools 8.0.2 (sha256 {manifest['sha256'][:12]})"
    )
    assert version["CompatibleRuntimes"] == RUNTIMES
    assert version["CompatibleArchitectures"] == ARCHITECTURES
    assert version["LicenseInfo"] == "MIT"
    assert version["Content"]["CodeSha256"] == manifest["code_sha256"]


def test_dry_run_only_reads(moto_endpoint: str, tmp_path: Path, api_calls, capsys) -> None:
    zip_path = write_layer(tmp_path)
    command = ["publish", "--endpoint-url", moto_endpoint, "--zip", str(zip_path)]

    assert main([*command, "--dry-run", "--share-with", "public"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert main(command) == 0
    capsys.readouterr()
    api_calls.calls.clear()
    assert main([*command, "--dry-run", "--share-with", "public"]) == 0
    looked = json.loads(capsys.readouterr().out)

    assert planned["dry_run"] is True
    assert planned["regions"] == [
        {
            "region": "us-east-1",
            "status": "would-publish",
            "published": False,
            "layer_version_arn": None,
            "version": None,
            "code_sha256": None,
        }
    ]
    assert looked["regions"][0]["status"] == "unchanged"
    assert looked["regions"][0]["shared_with"] == {"public": "would-add"}
    assert set(api_calls.by_operation()) <= READ_ONLY
    with pytest.raises(lambda_in("us-east-1", moto_endpoint).exceptions.ResourceNotFoundException):
        policy_statements(moto_endpoint, 1)


def stale(directory: Path) -> Path:
    """A zip rebuilt after its manifest was written."""
    zip_path = write_layer(directory)
    manifest = zip_path.with_suffix(".json").read_text()
    write_layer(directory, "# changed\n")
    zip_path.with_suffix(".json").write_text(manifest)
    return zip_path


def oversized(directory: Path) -> Path:
    """A zip just over Lambda's 50 MiB for a direct upload (sparse: no real 50 MiB written)."""
    zip_path = write_layer(directory)
    with zip_path.open("r+b") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    return zip_path


def outside_python(directory: Path) -> Path:
    """A zip whose files are not under python/, so Lambda would not put them on sys.path."""
    zip_path = write_layer(directory)
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr("cached_clients/__init__.py", "")
    content = zip_path.read_bytes()
    manifest = json.loads(zip_path.with_suffix(".json").read_text())
    manifest["sha256"] = hashlib.sha256(content).hexdigest()
    manifest["code_sha256"] = base64.b64encode(hashlib.sha256(content).digest()).decode()
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))
    return zip_path


def without_manifest(directory: Path) -> Path:
    """A zip with no manifest beside it."""
    zip_path = write_layer(directory)
    zip_path.with_suffix(".json").unlink()
    return zip_path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (without_manifest, "beside the zip; build with ./build_layer.sh, which writes both"),
        (stale, "does not match its manifest (sha256, code_sha256 differ)"),
        (outside_python, "fails verify: "),
        (oversized, "over the 50 MiB Lambda takes directly; upload it to S3"),
        (lambda d: write_layer(d, compatible_runtimes=["python3.99"]), "not what Lambda accepts"),
        (lambda d: d / "missing.zip", "missing.zip does not exist; pass the zip"),
    ],
)
def test_bad_zip_is_refused_before_any_call(
    make, expected, tmp_path: Path, api_calls, capsys
) -> None:
    zip_path = make(tmp_path)

    code = main(["publish", "--endpoint-url", "http://127.0.0.1:9", "--zip", str(zip_path)])

    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith("build_layer.sh publish: error: ")
    assert expected in error
    assert api_calls.calls == []


def test_bad_arguments_are_refused_before_any_call(tmp_path: Path, api_calls, capsys) -> None:
    zip_path = str(write_layer(tmp_path))
    for extra, expected in (
        (["--share-with", "12345"], "--share-with '12345' is not an account"),
        (["--layer-name", "no spaces"], "--layer-name 'no spaces' is not a layer name"),
        (["--region", "moon"], "--region 'moon' is not a region name"),
    ):
        assert main(["publish", "--zip", zip_path, *extra]) == 1
        assert expected in capsys.readouterr().err
    assert api_calls.calls == []


class StubbedRegions:
    """Real Lambda clients whose answers come from botocore's Stubber, one per region."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stubbers: dict[str, Stubber] = {}
        self.clients = {}
        monkeypatch.setattr(aws, "lambda_client", self._client)

    def __getitem__(self, region: str) -> Stubber:
        if region not in self.stubbers:
            client = boto3.client("lambda", region_name=region, endpoint_url="http://127.0.0.1:9")
            self.clients[region] = client
            self.stubbers[region] = Stubber(client)
            self.stubbers[region].activate()
        return self.stubbers[region]

    def _client(self, region: str, endpoint_url: str | None = None):
        self[region]
        return self.clients[region]

    def assert_done(self) -> None:
        """Every queued answer was asked for."""
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> StubbedRegions:
    """Every Lambda client the tooling makes is a stubbed one."""
    return StubbedRegions(monkeypatch)


def aws_listing(version: int) -> dict:
    """ListLayerVersions as real AWS answers it: no CodeSha256 anywhere."""
    arn = f"arn:aws:lambda:us-east-1:123456789012:layer:cached-clients:{version}"
    return {
        "LayerVersions": [
            {"LayerVersionArn": arn, "Version": number, "Description": "x"}
            for number in range(version, 0, -1)
        ]
    }


def layer_version(version: int, code_sha256: str) -> dict:
    """GetLayerVersion's answer, which does carry CodeSha256."""
    arn = f"arn:aws:lambda:us-east-1:123456789012:layer:cached-clients:{version}"
    return {"LayerVersionArn": arn, "Version": version, "Content": {"CodeSha256": code_sha256}}


def test_code_sha256_is_read_with_get_layer_version(stubbed, tmp_path: Path, capsys) -> None:
    zip_path = write_layer(tmp_path)
    manifest = json.loads(zip_path.with_suffix(".json").read_text())
    east = stubbed["us-east-1"]
    east.add_response("list_layer_versions", aws_listing(3), {"LayerName": "cached-clients"})
    east.add_response(
        "get_layer_version",
        layer_version(3, manifest["code_sha256"]),
        {"LayerName": "cached-clients", "VersionNumber": 3},
    )

    code = main(["publish", "--region", "us-east-1", "--zip", str(zip_path)])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["regions"][0]["status"] == "unchanged"
    stubbed.assert_done()


def test_changed_code_publishes_with_every_field(stubbed, tmp_path: Path, capsys) -> None:
    zip_path = write_layer(tmp_path)
    manifest = json.loads(zip_path.with_suffix(".json").read_text())
    east = stubbed["us-east-1"]
    east.add_response("list_layer_versions", aws_listing(1), {"LayerName": "cached-clients"})
    east.add_response("get_layer_version", layer_version(1, "b2xk"), None)
    description = f"cached-clients 1.0.0 with cachetools 8.0.2 (sha256 {manifest['sha256'][:12]})"
    expected = {
        "LayerName": "cached-clients",
        "Description": description,
        "Content": {"ZipFile": zip_path.read_bytes()},
        "CompatibleRuntimes": RUNTIMES,
        "CompatibleArchitectures": ARCHITECTURES,
        "LicenseInfo": "MIT",
    }
    east.add_response("publish_layer_version", layer_version(2, manifest["code_sha256"]), expected)

    code = main(["publish", "--region", "us-east-1", "--zip", str(zip_path)])

    assert code == 0
    report = json.loads(capsys.readouterr().out)["regions"][0]
    assert (report["version"], report["published"]) == (2, True)
    stubbed.assert_done()


def test_a_failing_region_does_not_stop_the_others(stubbed, tmp_path: Path, capsys) -> None:
    zip_path = write_layer(tmp_path)
    manifest = json.loads(zip_path.with_suffix(".json").read_text())
    stubbed["eu-west-1"].add_client_error(
        "list_layer_versions", "AccessDeniedException", "not allowed", 403
    )
    east = stubbed["us-east-1"]
    east.add_response("list_layer_versions", aws_listing(1), None)
    east.add_response("get_layer_version", layer_version(1, manifest["code_sha256"]), None)
    east.add_client_error("get_layer_version_policy", "ResourceNotFoundException", "none", 404)
    east.add_client_error(
        "add_layer_version_permission", "ResourceConflictException", "exists", 409
    )

    code = main(["publish", "--region", "eu-west-1", "--region", "us-east-1",
                 "--zip", str(zip_path), "--share-with", "public"])  # fmt: skip

    assert code == 1
    output = capsys.readouterr()
    reports = json.loads(output.out)["regions"]
    assert [report["status"] for report in reports] == ["failed", "unchanged"]
    assert reports[1]["shared_with"] == {"public": "present"}
    assert "access denied calling lambda:ListLayerVersions in eu-west-1" in reports[0]["error"]
    assert output.err.count("error:") == 1
    stubbed.assert_done()
