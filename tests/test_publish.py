"""``build_layer.sh publish`` against moto's server, and Stubber tests for what moto never does."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import boto3
import pytest
from _cli import ROOT, run_cli
from botocore.stub import Stubber

from layer import aws
from layer.cli import main
from layer.errors import LayerError

REGIONS = ("us-east-1", "eu-west-1")
READ_ONLY = {"ListLayerVersions", "GetLayerVersion", "GetLayerVersionPolicy"}


def digests(zip_path: Path) -> dict:
    """The manifest's size and digest keys for the zip as it is now."""
    digest = hashlib.sha256(zip_path.read_bytes()).digest()
    return {
        "zip_bytes": zip_path.stat().st_size,
        "sha256": digest.hex(),
        "code_sha256": base64.b64encode(digest).decode("ascii"),
    }


def copy_layer(built, directory: Path, *, rewritten: bool = False, **manifest_changes) -> Path:
    """The session's real build, copied with its manifest into ``directory``.

    ``rewritten`` stores every entry again with another timestamp: the same files, so it
    still passes verify, but other bytes and so another CodeSha256.
    """
    directory.mkdir(parents=True, exist_ok=True)
    zip_path = directory / built.zip_path.name
    if rewritten:
        _rewrite(built.zip_path, zip_path)
    else:
        shutil.copyfile(built.zip_path, zip_path)

    manifest = {**built.manifest, **digests(zip_path), **manifest_changes}
    zip_path.with_suffix(".json").write_text(json.dumps(manifest), encoding="utf-8")
    return zip_path


def _rewrite(source: Path, destination: Path) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(destination, "w") as new:
        for info in old.infolist():
            copy = zipfile.ZipInfo(info.filename, (2001, 2, 3, 4, 5, 6))
            copy.external_attr = info.external_attr
            copy.compress_type = info.compress_type
            new.writestr(copy, old.read(info))


@pytest.fixture
def layer_zip(built_layer, tmp_path: Path) -> Path:
    """A copy of the real layer zip and its manifest, for one test to use or spoil."""
    return copy_layer(built_layer, tmp_path / "layer")


def description(manifest: dict) -> str:
    """The Description a layer version built from this manifest must carry."""
    cachetools = manifest["distributions"]["cachetools"]
    tags = ",".join(sorted(tag.removeprefix("cpython-") for tag in manifest["bytecode"]))
    return (
        f"cached-clients 1.0.0 with cachetools {cachetools} "
        f"(sha256 {manifest['sha256'][:12]}, bytecode {tags})"
    )


def lambda_in(region: str, endpoint: str):
    """A plain boto3 Lambda client on moto's server, to look at what publish left."""
    return boto3.client("lambda", region_name=region, endpoint_url=endpoint)


def policy_statements(endpoint: str, version: int, region: str = "us-east-1") -> list[dict]:
    """The statements of the layer version's policy, as GetLayerVersionPolicy returns them."""
    client = lambda_in(region, endpoint)
    policy = client.get_layer_version_policy(LayerName="cached-clients", VersionNumber=version)
    return json.loads(policy["Policy"])["Statement"]


def test_publish_once_per_content_in_each_region_and_share_once(
    moto_endpoint: str, built_layer, layer_zip: Path, tmp_path: Path
) -> None:
    first = layer_zip
    second = copy_layer(built_layer, tmp_path / "second", rewritten=True)
    where = ["--region", REGIONS[0], "--region", REGIONS[1], "--endpoint-url", moto_endpoint]
    shares = ["--share-with", "111122223333", "--share-with", "o-abcdefghij12", "--share-with"]

    published = run_cli("publish", *where, "--zip", str(first))
    again = run_cli("publish", *where, "--zip", str(first), *shares, "public")
    shared_again = run_cli("publish", *where, "--zip", str(first), *shares, "public")
    changed = run_cli("publish", *where, "--zip", str(second))

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


def test_a_region_whose_sharing_fails_still_reports_the_version_it_published(
    moto_endpoint: str, layer_zip: Path, monkeypatch, capsys
) -> None:
    def denied(*args, **kwargs) -> str:
        raise LayerError("access denied calling lambda:AddLayerVersionPermission")

    monkeypatch.setattr("layer.publish.ensure_shared", denied)
    where = ["--region", "us-east-1", "--endpoint-url", moto_endpoint, "--zip", str(layer_zip)]

    code = main(["publish", *where, "--share-with", "111122223333"])

    assert code == 1
    (report,) = json.loads(capsys.readouterr().out)["regions"]
    # The version exists now: a script reading this must not think nothing was published.
    assert report["status"] == "failed"
    assert "AddLayerVersionPermission" in report["error"]
    assert (report["published"], report["version"]) == (True, 1)
    assert report["layer_version_arn"].endswith(":layer:cached-clients:1")


def test_published_version_carries_the_manifest(moto_endpoint: str, layer_zip: Path) -> None:
    zip_path = layer_zip
    manifest = json.loads(zip_path.with_suffix(".json").read_text())

    code = main(["publish", "--region", "us-east-1", "--endpoint-url", moto_endpoint,
                 "--zip", str(zip_path)])  # fmt: skip

    assert code == 0
    version = lambda_in("us-east-1", moto_endpoint).get_layer_version(
        LayerName="cached-clients", VersionNumber=1
    )
    assert version["Description"] == description(manifest)
    assert len(version["Description"]) <= 256
    assert version["CompatibleRuntimes"] == manifest["compatible_runtimes"]
    assert version["CompatibleArchitectures"] == manifest["compatible_architectures"]
    assert version["LicenseInfo"] == manifest["license"] == "MIT"
    assert version["Content"]["CodeSha256"] == manifest["code_sha256"]


def test_a_description_longer_than_lambda_takes_is_cut_to_256(built_layer) -> None:
    # No zip that passes verify has so long a version, so the cut is checked on its own.
    from layer._description import describe

    manifest = {**built_layer.manifest, "version": "1.0.0+" + "local" * 60}

    text = describe(manifest)

    assert len(text) == 256
    assert text.startswith(f"cached-clients {manifest['version'][:200]}")


def test_dry_run_only_reads(moto_endpoint: str, layer_zip: Path, api_calls, capsys) -> None:
    zip_path = layer_zip
    command = ["publish", "--endpoint-url", moto_endpoint, "--zip", str(zip_path)]

    assert main([*command, "--dry-run", "--share-with", "public"]) == 0
    planned = json.loads(capsys.readouterr().out)
    first_calls = api_calls.by_operation()
    lambda_in("us-east-1", moto_endpoint).publish_layer_version(
        LayerName="cached-clients", Content={"ZipFile": zip_path.read_bytes()}
    )
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
            "shared_with": {"public": "would-add"},
        }
    ]
    assert looked["regions"][0]["status"] == "unchanged"
    assert looked["regions"][0]["shared_with"] == {"public": "would-add"}
    assert set(first_calls) | set(api_calls.by_operation()) <= READ_ONLY
    assert api_calls.count("lambda", "GetLayerVersionPolicy") == 1
    with pytest.raises(lambda_in("us-east-1", moto_endpoint).exceptions.ResourceNotFoundException):
        policy_statements(moto_endpoint, 1)


def test_a_zip_with_less_bytecode_does_not_replace_the_same_release_with_more(
    moto_endpoint: str, layer_zip: Path, tmp_path: Path
) -> None:
    full = json.loads(layer_zip.with_suffix(".json").read_text())
    if len(full["bytecode"]) < 2:
        pytest.skip("one local interpreter only: every build has the same bytecode")
    built = run_cli("build", "--output-dir", str(tmp_path / "fewer"), "--interpreters", "3.11")
    assert built.returncode == 0, built
    fewer = Path(built.stdout.strip())
    where = ["--region", "us-east-1", "--endpoint-url", moto_endpoint]
    lost = ", ".join(
        f"python3.{tag.removeprefix('cpython-3')}" for tag in sorted(full["bytecode"])[1:]
    )

    first = run_cli("publish", *where, "--zip", str(layer_zip))
    refused = run_cli("publish", *where, "--zip", str(fewer))
    forced = run_cli("publish", *where, "--zip", str(fewer), "--allow-less-bytecode")
    restored = run_cli("publish", *where, "--zip", str(layer_zip))

    assert [run.returncode for run in (first, refused, forced, restored)] == [0, 1, 0, 0]
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:cached-clients"
    assert refused.stderr_lines[-1] == (
        "build_layer.sh publish: error: us-east-1: the zip was built with fewer interpreters "
        f"than {arn}:1, which has bytecode for {lost} too; build where those are installed, "
        "or pass --allow-less-bytecode"
    )
    assert refused.json()["regions"][0]["status"] == "failed"
    assert [r.json()["regions"][0]["version"] for r in (first, forced, restored)] == [1, 2, 3]

    client = lambda_in("us-east-1", moto_endpoint)
    descriptions = [
        client.get_layer_version(LayerName="cached-clients", VersionNumber=n)["Description"]
        for n in (1, 2, 3)
    ]
    tags = ",".join(tag.removeprefix("cpython-") for tag in sorted(full["bytecode"]))
    assert [text.rsplit("bytecode ", 1)[1] for text in descriptions] == [
        f"{tags})",
        "311)",
        f"{tags})",
    ]


def stale(built, directory: Path) -> Path:
    """A zip rebuilt after its manifest was written."""
    zip_path = copy_layer(built, directory)
    manifest = zip_path.with_suffix(".json").read_text()
    copy_layer(built, directory, rewritten=True)
    zip_path.with_suffix(".json").write_text(manifest)
    return zip_path


def oversized(built, directory: Path) -> Path:
    """A zip just over Lambda's 50 MiB for a direct upload (sparse: no real 50 MiB written)."""
    zip_path = copy_layer(built, directory)
    with zip_path.open("r+b") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    return zip_path


def outside_python(built, directory: Path) -> Path:
    """A zip with a module outside python/, where Lambda would not put it on sys.path."""
    zip_path = copy_layer(built, directory)
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr("stray.py", "")
    manifest = {**json.loads(zip_path.with_suffix(".json").read_text()), **digests(zip_path)}
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))
    return zip_path


def stale_bytecode(built, directory: Path) -> Path:
    """A source edited after its bytecode was compiled, with a manifest that matches."""
    zip_path = copy_layer(built, directory)
    edited = directory / "edited.zip"
    with zipfile.ZipFile(zip_path) as old, zipfile.ZipFile(edited, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "python/cachetools/keys.py":
                data += b"\n# edited after compiling\n"
            new.writestr(info, data)
    edited.replace(zip_path)
    return rewrite_manifest(zip_path)


def rewrite_manifest(zip_path: Path) -> Path:
    """The manifest beside ``zip_path`` made true to it again."""
    from layer.manifest import file_records

    records = file_records(zip_path)
    manifest = {
        **json.loads(zip_path.with_suffix(".json").read_text()),
        **digests(zip_path),
        "files": records,
        "unzipped_bytes": sum(record["size"] for record in records),
    }
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))
    return zip_path


def without_manifest(built, directory: Path) -> Path:
    """A zip with no manifest beside it."""
    zip_path = copy_layer(built, directory)
    zip_path.with_suffix(".json").unlink()
    return zip_path


def a_directory(built, directory: Path) -> Path:
    """A directory where the zip should be, named like one."""
    zip_path = copy_layer(built, directory)
    zip_path.unlink()
    zip_path.mkdir()
    return zip_path


def unknown_runtime(built, directory: Path) -> Path:
    """A manifest claiming a runtime Lambda does not have."""
    runtimes = [*built.manifest["compatible_runtimes"], "python3.99"]
    return copy_layer(built, directory, compatible_runtimes=runtimes)


@pytest.mark.parametrize(
    "case",
    [
        (without_manifest, "no manifest for cached-clients-1.0.0.zip; run ./build_layer.sh"),
        (stale, "does not match its manifest (sha256, code_sha256 differ)"),
        (outside_python, "fails verify: "),
        (stale_bytecode, "python/cachetools/keys.py: bytecode was compiled from different source"),
        (oversized, "over the 50 MiB Lambda takes directly; upload it to S3"),
        (unknown_runtime, "python3.99"),
        (
            lambda built, directory: copy_layer(built, directory, compatible_architectures=7),
            "cached-clients-1.0.0.json: compatible_architectures: 7 is not of type 'array'",
        ),
        (
            lambda built, directory: copy_layer(built, directory, unzipped_bytes="lots"),
            "cached-clients-1.0.0.json: unzipped_bytes: 'lots' is not of type 'integer'",
        ),
        (lambda built, directory: directory / "missing.zip", "missing.zip does not exist"),
        (a_directory, "cached-clients-1.0.0.zip is not a file; pass the zip"),
        (
            lambda built, directory: copy_layer(built, directory, license="MIT " * 130),
            "cached-clients-1.0.0.json: license: 'MIT MIT",
        ),
    ],
    ids=[
        "no-manifest",
        "stale-manifest",
        "fails-verify",
        "stale-bytecode",
        "over-50-MiB",
        "bad-runtime",
        "architectures-not-a-list",
        "unzipped-bytes-not-a-number",
        "no-zip",
        "zip-is-a-directory",
        "license-over-512",
    ],
)
def test_bad_zip_is_refused_before_any_call(
    case, built_layer, tmp_path: Path, *, api_calls, capsys, caplog
) -> None:
    make, expected = case
    zip_path = make(built_layer, tmp_path)

    code = main(["publish", "--endpoint-url", "http://127.0.0.1:9", "--zip", str(zip_path)])

    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith("build_layer.sh publish: error: ")
    # Each problem verify or the manifest check found is a line of its own, logged before.
    lines = [*error.splitlines(), *(record.getMessage() for record in caplog.records)]
    assert any(expected in line for line in lines), lines
    assert api_calls.calls == []


def test_every_fault_of_a_manifest_is_a_line_of_its_own(
    built_layer, tmp_path: Path, api_calls, capsys, caplog
) -> None:
    zip_path = copy_layer(built_layer, tmp_path, compatible_architectures=7, unzipped_bytes="x")

    code = main(["publish", "--endpoint-url", "http://127.0.0.1:9", "--zip", str(zip_path)])

    assert code == 1
    assert [record.getMessage() for record in caplog.records] == [
        "compatible_architectures: 7 is not of type 'array'",
        "unzipped_bytes: 'x' is not of type 'integer'",
    ]
    assert capsys.readouterr().err == (
        f"build_layer.sh publish: error: {zip_path.with_suffix('.json')}: 2 problems, "
        "each on a line above; rebuild it with ./build_layer.sh\n"
    )
    assert api_calls.calls == []


def test_an_unreadable_zip_is_one_line(
    layer_zip: Path, monkeypatch: pytest.MonkeyPatch, api_calls, capsys
) -> None:
    # As root a mode of 000 reads fine, so the refusal the OS would give is raised here.
    read_bytes = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path == layer_zip:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)

    code = main(["publish", "--endpoint-url", "http://127.0.0.1:9", "--zip", str(layer_zip)])

    assert code == 1
    assert capsys.readouterr().err == (
        f"build_layer.sh publish: error: {layer_zip} cannot be read (Permission denied); "
        "check its permissions or build it again\n"
    )
    assert api_calls.calls == []


def test_a_relative_zip_is_found_from_the_callers_directory(
    moto_endpoint: str, layer_zip: Path
) -> None:
    # A package named like the tooling's, in the caller's directory, must not be run instead.
    (layer_zip.parent / "layer").mkdir()
    (layer_zip.parent / "layer" / "__init__.py").write_text("raise SystemExit('not ours')\n")
    ran = subprocess.run(
        [str(ROOT / "build_layer.sh"), "publish", "--zip", layer_zip.name, "--dry-run",
         "--region", "us-east-1", "--endpoint-url", moto_endpoint],
        cwd=layer_zip.parent, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["regions"][0]["status"] == "would-publish"


def test_without_region_publish_takes_aws_region(moto_endpoint: str, layer_zip: Path) -> None:
    # botocore alone reads only AWS_DEFAULT_REGION; the CLI v2 lets AWS_REGION win over it.
    command = ["publish", "--zip", str(layer_zip), "--dry-run", "--endpoint-url", moto_endpoint]
    alone = {k: v for k, v in os.environ.items() if k != "AWS_DEFAULT_REGION"}
    both = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}

    ran = [run_cli(*command, env={**env, "AWS_REGION": "eu-west-1"}) for env in (alone, both)]

    assert [result.returncode for result in ran] == [0, 0], ran
    assert [result.json()["regions"][0]["region"] for result in ran] == ["eu-west-1"] * 2


def test_bad_arguments_are_refused_before_any_call(layer_zip: Path, api_calls, capsys) -> None:
    zip_path = str(layer_zip)
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


def test_a_region_of_the_european_sovereign_cloud_is_a_region(
    stubbed, layer_zip: Path, capsys
) -> None:
    region = "eusc-de-east-1"
    stubbed[region].add_response("list_layer_versions", {"LayerVersions": []}, None)

    code = main(["publish", "--region", region, "--zip", str(layer_zip), "--dry-run"])

    assert code == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)["regions"][0]
    assert (report["region"], report["status"]) == (region, "would-publish")
    stubbed.assert_done()


def test_code_sha256_is_read_with_get_layer_version(stubbed, layer_zip: Path, capsys) -> None:
    zip_path = layer_zip
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


def test_changed_code_publishes_with_every_field(stubbed, layer_zip: Path, capsys) -> None:
    zip_path = layer_zip
    manifest = json.loads(zip_path.with_suffix(".json").read_text())
    east = stubbed["us-east-1"]
    east.add_response("list_layer_versions", aws_listing(1), {"LayerName": "cached-clients"})
    east.add_response("get_layer_version", layer_version(1, "b2xk"), None)
    expected = {
        "LayerName": "cached-clients",
        "Description": description(manifest),
        "Content": {"ZipFile": zip_path.read_bytes()},
        "CompatibleRuntimes": manifest["compatible_runtimes"],
        "CompatibleArchitectures": manifest["compatible_architectures"],
        "LicenseInfo": "MIT",
    }
    east.add_response("publish_layer_version", layer_version(2, manifest["code_sha256"]), expected)

    code = main(["publish", "--region", "us-east-1", "--zip", str(zip_path)])

    assert code == 0
    report = json.loads(capsys.readouterr().out)["regions"][0]
    assert (report["version"], report["published"]) == (2, True)
    stubbed.assert_done()


def test_a_failing_region_does_not_stop_the_others(stubbed, layer_zip: Path, capsys) -> None:
    zip_path = layer_zip
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


@pytest.mark.parametrize(
    "published",
    [
        "cached-clients 0.9.0 with cachetools 8.0.2 "
        "(sha256 0123456789ab, bytecode 311,312,313,314)",
        "written by hand",
    ],
    ids=["older-release", "not-ours"],
)
def test_more_bytecode_in_another_release_does_not_stop_publish(
    stubbed, layer_zip: Path, capsys, published: str
) -> None:
    manifest = json.loads(layer_zip.with_suffix(".json").read_text())
    east = stubbed["us-east-1"]
    east.add_response("list_layer_versions", aws_listing(1), None)
    east.add_response(
        "get_layer_version", {**layer_version(1, "b2xk"), "Description": published}, None
    )
    east.add_response("publish_layer_version", layer_version(2, manifest["code_sha256"]), None)

    code = main(["publish", "--region", "us-east-1", "--zip", str(layer_zip)])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["regions"][0]["version"] == 2
    stubbed.assert_done()
