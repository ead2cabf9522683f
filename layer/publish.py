"""``build_layer.sh publish``: a new layer version in each region whose latest one differs."""

import dataclasses
import json
import logging
import re
import sys
from pathlib import Path

from botocore.exceptions import ClientError

from layer import _arns, _artifact, _description, aws
from layer._args import Parser
from layer._sharing import Share, ensure_shared, parse_share
from layer.errors import LayerError

__all__ = ["main"]

LAYER_NAME = re.compile(r"[A-Za-z0-9_-]{1,140}")
REGION = re.compile(_arns.REGION)

logger = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    """Publish where the zip changed, share as asked; JSON on stdout, 1 if any region failed."""
    args = _parser().parse_args(argv)
    regions = _regions(args.region)
    shares = [parse_share(text) for text in dict.fromkeys(args.share_with or [])]
    _check_layer_name(args.layer_name)
    clients = {region: aws.lambda_client(region, args.endpoint_url) for region in regions}

    artifact = _artifact.load(args.zip)
    _check_against_model(next(iter(clients.values())), artifact)
    job = _Job(
        artifact,
        args.layer_name or artifact.manifest["name"],
        shares,
        dry_run=args.dry_run,
        allow_less_bytecode=args.allow_less_bytecode,
    )
    reports = [_publish_region(clients[region], region, job) for region in regions]

    _print_result(job, reports)
    return 1 if any(report["status"] == "failed" for report in reports) else 0


def _parser() -> Parser:
    parser = Parser(
        prog="build_layer.sh publish",
        description="Publish the built layer zip as a new layer version in each region where "
        "the latest version's CodeSha256 differs; print the version ARNs as JSON.",
    )
    parser.add_argument(
        "--region",
        action="append",
        help="a region to publish in (repeat for several; default: AWS_REGION or the profile's)",
    )
    parser.add_argument("--layer-name", metavar="NAME", help="default: the manifest's name")
    parser.add_argument("--zip", type=Path, metavar="PATH", help=_ZIP_HELP)
    parser.add_argument(
        "--share-with",
        action="append",
        metavar="ACCOUNT|o-ORGID|public",
        help="grant lambda:GetLayerVersion on the version (repeat for several)",
    )
    parser.add_argument("--endpoint-url", metavar="URL", help="a Lambda endpoint to use instead")
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be published, change nothing"
    )
    parser.add_argument(
        "--allow-less-bytecode",
        action="store_true",
        help="publish even over a version of the same release that carries bytecode for more "
        "runtimes (on those, cold starts would compile the layer's modules)",
    )
    return parser


_ZIP_HELP = "the layer zip, its manifest beside it (default: dist/cached-clients-VERSION.zip)"


def _regions(given: list[str] | None) -> list[str]:
    regions = list(dict.fromkeys(given or [aws.resolve_region(None)]))
    for region in regions:
        if not REGION.fullmatch(region):
            raise LayerError(f"--region {region!r} is not a region name; give e.g. us-east-1")
    return regions


def _check_layer_name(name: str | None) -> None:
    if name is not None and not LAYER_NAME.fullmatch(name):
        raise LayerError(
            f"--layer-name {name!r} is not a layer name; use 1 to 140 letters, digits, - or _"
        )


def _check_against_model(client, artifact: _artifact.Artifact) -> None:
    """Lambda accepts only the runtimes and architectures its API names; moto takes any."""
    model = client.meta.service_model.operation_model("PublishLayerVersion").input_shape.members
    for key, member in (
        ("compatible_runtimes", "CompatibleRuntimes"),
        ("compatible_architectures", "CompatibleArchitectures"),
    ):
        shape = model[member]
        values = artifact.manifest[key]
        unknown = sorted(set(values) - set(shape.member.enum))
        if unknown or len(values) > shape.metadata["max"]:
            raise LayerError(
                f"the manifest's {key} {values} are not what Lambda accepts (at most "
                f"{shape.metadata['max']} of {', '.join(shape.member.enum)}); rebuild the layer"
            )


@dataclasses.dataclass(frozen=True)
class _Job:
    """What to publish, under which name, shared with whom, and whether only to look."""

    artifact: _artifact.Artifact
    layer_name: str
    shares: list[Share]
    dry_run: bool
    allow_less_bytecode: bool


def _publish_region(client, region: str, job: _Job) -> dict:
    report = {"region": region, "published": False}
    try:
        with aws.translated(f"layer {job.layer_name}", region):
            report = _publish_version(client, region, job)
            report["shared_with"] = _share(client, report["version"], job)
            return report
    except LayerError as error:
        print(f"build_layer.sh publish: error: {region}: {error}", file=sys.stderr)
        # A failure after publishing (in sharing) keeps what was published in the report.
        return {**report, "status": "failed", "error": str(error)}


def _share(client, version: int | None, job: _Job) -> dict[str, str]:
    """What became of each --share-with target; a version only a dry run would publish gets all."""
    if version is None:
        return dict.fromkeys((share.target for share in job.shares), "would-add")
    return {
        share.target: ensure_shared(client, job.layer_name, version, share, dry_run=job.dry_run)
        for share in job.shares
    }


def _publish_version(client, region: str, job: _Job) -> dict:
    artifact = job.artifact
    latest = _latest_version(client, job.layer_name)
    if latest and latest["Content"]["CodeSha256"] == artifact.code_sha256:
        logger.info("%s: %s is unchanged", region, latest["LayerVersionArn"])
        return _report(region, latest, "unchanged", published=False)
    if latest:
        _check_bytecode(latest, artifact, allowed=job.allow_less_bytecode)
    if job.dry_run:
        logger.info("%s: would publish a new version of %s", region, job.layer_name)
        return _report(region, {}, "would-publish", published=False)

    logger.info("%s: publishing %s", region, artifact.description())
    published = client.publish_layer_version(
        LayerName=job.layer_name,
        Description=artifact.description(),
        Content={"ZipFile": artifact.content},
        CompatibleRuntimes=artifact.manifest["compatible_runtimes"],
        CompatibleArchitectures=artifact.manifest["compatible_architectures"],
        LicenseInfo=artifact.manifest["license"],
    )
    logger.info("%s: published %s", region, published["LayerVersionArn"])
    return _report(region, published, "published", published=True)


def _check_bytecode(latest: dict, artifact: _artifact.Artifact, *, allowed: bool) -> None:
    """Refuse to replace the same release built with more interpreters by this one."""
    published = _description.parse(latest.get("Description", ""))
    ours = _description.parse(artifact.description())
    if published is None or ours is None or not published.same_release(ours):
        return
    if not published.tags > artifact.bytecode_tags:
        return

    missing = ", ".join(
        _description.runtime_of(tag) for tag in sorted(published.tags - artifact.bytecode_tags)
    )
    arn = latest["LayerVersionArn"]
    if allowed:
        logger.warning("%s has bytecode for %s too; publishing without it", arn, missing)
        return
    raise LayerError(
        f"the zip was built with fewer interpreters than {arn}, which has bytecode for "
        f"{missing} too; build where those are installed, or pass --allow-less-bytecode"
    )


def _latest_version(client, layer_name: str) -> dict | None:
    """The newest version of the layer as GetLayerVersion gives it, or None if it has none."""
    try:
        pages = client.get_paginator("list_layer_versions").paginate(LayerName=layer_name)
        numbers = [item["Version"] for page in pages for item in page["LayerVersions"]]
    except ClientError as error:
        if aws.error_code(error) != "ResourceNotFoundException":
            raise
        numbers = []

    if not numbers:
        return None
    # ListLayerVersions carries no CodeSha256 on real AWS; GetLayerVersion does.
    return client.get_layer_version(LayerName=layer_name, VersionNumber=max(numbers))


def _report(region: str, version: dict, status: str, *, published: bool) -> dict:
    return {
        "region": region,
        "status": status,
        "published": published,
        "layer_version_arn": version.get("LayerVersionArn"),
        "version": version.get("Version"),
        "code_sha256": version.get("Content", {}).get("CodeSha256"),
    }


def _print_result(job: _Job, reports: list[dict]) -> None:
    result = {
        "layer_name": job.layer_name,
        "package_version": job.artifact.manifest["version"],
        "code_sha256": job.artifact.code_sha256,
        "dry_run": job.dry_run,
        "regions": reports,
    }
    print(json.dumps(result, indent=2))
