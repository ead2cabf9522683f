"""``build_layer.sh attach``: give functions a layer version, replacing older versions in place."""

import json
import logging
import sys

from layer import aws
from layer._args import Parser
from layer._arns import LayerVersionArn, check_function, layer_and_version, parse_layer_version_arn
from layer._function_update import update_layers
from layer.errors import LayerError

__all__ = ["main"]

logger = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    """Attach the layer version to each function; JSON on stdout, 1 if any function failed."""
    args = _parser().parse_args(argv)
    target = parse_layer_version_arn(args.layer_arn)
    _check_region(args.region, target)
    for function in args.function or []:
        check_function(function, target.region)
    if args.all_using:
        _check_same_layer(args.all_using, target)

    client = aws.lambda_client(target.region, args.endpoint_url)
    layer = _layer_version(client, target)
    if args.all_using:
        reports = _attach_all_using(client, target, args.dry_run)
    else:
        # A function named twice is updated once and reported once.
        names = dict.fromkeys(args.function)
        reports = [_attach_one(client, name, target, args.dry_run) for name in names]
    for report in reports:
        _warn_if_incompatible(report, layer)

    _print_result(target, args.dry_run, reports)
    return 1 if any(report["status"] == "failed" for report in reports) else 0


def _parser() -> Parser:
    parser = Parser(
        prog="build_layer.sh attach",
        description="Attach a layer version to Lambda functions, replacing any other version "
        "of the same layer in place and keeping their other layers in order.",
    )
    parser.add_argument("--layer-arn", required=True, metavar="ARN", help=_ARN_HELP)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--function",
        action="append",
        metavar="NAME",
        help="a function name or ARN (repeat for several)",
    )
    which.add_argument(
        "--all-using",
        metavar="LAYER_NAME",
        help="every function in the region that uses an older version of this layer",
    )
    parser.add_argument("--region", help="must be the layer's region (default: the ARN's)")
    parser.add_argument("--endpoint-url", metavar="URL", help="a Lambda endpoint to use instead")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print each function's layers before and after, and change nothing",
    )
    return parser


_ARN_HELP = "the layer version, arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"


def _check_region(region: str | None, target: LayerVersionArn) -> None:
    if region and region != target.region:
        raise LayerError(
            f"--region {region} differs from the layer's region {target.region}; a function "
            "can only use layers from its own region: publish the layer there first"
        )


def _check_same_layer(layer: str, target: LayerVersionArn) -> None:
    if layer not in (target.name, target.layer_arn):
        raise LayerError(
            f"--all-using {layer} is not the layer of --layer-arn ({target.name}); "
            f"give --all-using {target.name}"
        )


def _layer_version(client, target: LayerVersionArn) -> dict:
    """The layer version itself: it must exist (and be readable) before any function moves."""
    with aws.translated(f"layer version {target.arn}", target.region):
        return client.get_layer_version(LayerName=target.layer_arn, VersionNumber=target.version)


def _warn_if_incompatible(report: dict, layer: dict) -> None:
    """Lambda attaches a layer whatever it declares; say so when the function is not among it."""
    runtimes = layer.get("CompatibleRuntimes") or []
    architectures = layer.get("CompatibleArchitectures") or []
    warnings = []
    if runtimes and report.get("runtime") and report["runtime"] not in runtimes:
        warnings.append(f"runtime {report['runtime']} is not among {', '.join(runtimes)}")
    unsupported = set(report.get("architectures") or []) - set(architectures)
    if architectures and unsupported:
        warnings.append(
            f"architecture {', '.join(sorted(unsupported))} is not among {', '.join(architectures)}"
        )

    for warning in warnings:
        logger.warning(
            "%s: warning: the function's %s (the layer's compatible ones)",
            report["function"],
            warning,
        )
    if warnings:
        report["warnings"] = warnings


def _attach_all_using(client, target: LayerVersionArn, dry_run: bool) -> list[dict]:
    reports = []
    for config in _functions_using(client, target):
        name = config["FunctionName"]
        versions = _versions_used(config, target)
        if max(versions) > target.version:
            layers = [layer["Arn"] for layer in config["Layers"]]
            logger.info("%s: has a newer version of %s; left alone", name, target.name)
            reports.append({"function": name, "before": layers, "after": layers, "status": "newer"})
        else:
            reports.append(_attach_one(client, name, target, dry_run))
    return reports


def _functions_using(client, target: LayerVersionArn) -> list[dict]:
    with aws.translated("function list", target.region):
        pages = client.get_paginator("list_functions").paginate()
        configs = [config for page in pages for config in page["Functions"]]
    using = [config for config in configs if _versions_used(config, target)]
    logger.info("%d of %d functions use %s", len(using), len(configs), target.layer_arn)
    return using


def _versions_used(config: dict, target: LayerVersionArn) -> list[int]:
    layers = [layer_and_version(layer["Arn"]) for layer in config.get("Layers", [])]
    return [layer[1] for layer in layers if layer and layer[0] == target.layer_arn]


def _attach_one(client, function: str, target: LayerVersionArn, dry_run: bool) -> dict:
    try:
        report = update_layers(client, function, target, dry_run=dry_run)
    except LayerError as error:
        print(f"build_layer.sh attach: error: {error}", file=sys.stderr)
        return {"function": function, "status": "failed", "error": str(error)}

    if report["status"] == "would-update":
        before, after = (", ".join(report[key]) or "none" for key in ("before", "after"))
        logger.info("%s: would change layers from %s to %s", report["function"], before, after)
    else:
        logger.info("%s: %s", report["function"], report["status"])
    return report


def _print_result(target: LayerVersionArn, dry_run: bool, reports: list[dict]) -> None:
    result = {
        "layer_version_arn": target.arn,
        "region": target.region,
        "dry_run": dry_run,
        "functions": reports,
    }
    print(json.dumps(result, indent=2))
