"""Give one function a layer version: plan its new layer list, update it, wait for the result."""

import logging
import random
import time

import botocore.exceptions
from botocore.exceptions import ClientError

from layer import aws
from layer._arns import LayerVersionArn, layer_and_version
from layer.errors import LayerError

__all__ = ["MAX_LAYERS", "plan_layers", "update_layers"]

# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_LAYERS = 5

# ResourceConflictException: another update of the function is still in progress.
# PreconditionFailedException: the function changed since we read it (RevisionId).
# Either way: wait, read the function again and plan again.
RETRYABLE = {"ResourceConflictException", "PreconditionFailedException"}
MAX_ATTEMPTS = 6
WAIT = {"Delay": 2, "MaxAttempts": 150}

logger = logging.getLogger(__name__)


def plan_layers(current: list[str], target: LayerVersionArn) -> list[str]:
    """``current`` with ``target`` in place of any version of its layer (else appended)."""
    planned: list[str] = []
    for arn in current:
        same = (layer_and_version(arn) or ("",))[0] == target.layer_arn
        if not same:
            planned.append(arn)
        elif target.arn not in planned:
            planned.append(target.arn)

    if target.arn not in planned:
        planned.append(target.arn)
    return planned


def update_layers(client, function: str, target: LayerVersionArn, *, dry_run: bool) -> dict:
    """Move ``function`` onto ``target`` and wait until Lambda is done; returns its report."""
    for attempt in range(MAX_ATTEMPTS):
        config = _read(client, function, target.region)
        name = config["FunctionName"]
        before = [layer["Arn"] for layer in config.get("Layers", [])]
        after = plan_layers(before, target)
        report = {
            "function": name,
            "runtime": config.get("Runtime"),
            "architectures": config.get("Architectures", ["x86_64"]),
            "before": before,
            "after": after,
        }

        if after == before:
            return {**report, "status": "unchanged"}
        _check_zip_package(config)
        _check_limit(name, before, after)
        if dry_run:
            return {**report, "status": "would-update"}

        if _try_update(client, config, after, attempt, target.region):
            break

    _wait(client, name, target.region)
    return {**report, "status": "updated"}


def _read(client, function: str, region: str) -> dict:
    with aws.translated(f"function {function!r}", region):
        return client.get_function_configuration(FunctionName=function)


def _check_zip_package(config: dict) -> None:
    """Refuse a container image function: Lambda takes layers only on .zip packages."""
    # https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html (moto takes them anyway)
    if config.get("PackageType") == "Image":
        raise LayerError(
            f"function {config['FunctionName']} is a container image, and Lambda adds layers "
            "only to .zip functions; copy the layer's python/ into the image's /opt instead"
        )


def _check_limit(name: str, before: list[str], after: list[str]) -> None:
    if len(after) > MAX_LAYERS:
        raise LayerError(
            f"function {name} would have {len(after)} layers, Lambda allows {MAX_LAYERS}; "
            f"its layers are {', '.join(before)}: remove one first"
        )


def _try_update(client, config: dict, layers: list[str], attempt: int, region: str) -> bool:
    """Update once; False (after a backoff) when Lambda is busy and another try may work."""
    name = config["FunctionName"]
    revision = {"RevisionId": config["RevisionId"]} if config.get("RevisionId") else {}
    logger.info("%s: setting layers %s", name, ", ".join(layers))
    with aws.translated(f"function {name!r}", region):
        try:
            client.update_function_configuration(FunctionName=name, Layers=layers, **revision)
            return True
        except ClientError as error:
            code = aws.error_code(error)
            if code not in RETRYABLE:
                raise
            if attempt == MAX_ATTEMPTS - 1:
                raise LayerError(_still_busy(name, error)) from error

    delay = min(20.0, 2.0**attempt) * random.uniform(0.5, 1.0)
    logger.info("%s: %s; trying again in %.1f s", name, code, delay)
    time.sleep(delay)
    return False


def _still_busy(name: str, error: ClientError) -> str:
    message = aws.one_line(error.response.get("Error", {}).get("Message", ""))
    return (
        f"function {name} was still being changed by someone else after {MAX_ATTEMPTS} tries "
        f"({aws.error_code(error)}: {message}); wait until its update is done, then run "
        "attach again"
    )


def _wait(client, name: str, region: str) -> None:
    logger.info("%s: waiting for the update to finish", name)
    waiter = client.get_waiter("function_updated")
    with aws.translated(f"function {name!r}", region):
        try:
            waiter.wait(FunctionName=name, WaiterConfig=WAIT)
        except botocore.exceptions.WaiterError as error:
            raise LayerError(_waiter_failure(name, error)) from error


def _waiter_failure(name: str, error: botocore.exceptions.WaiterError) -> str:
    last = error.last_response or {}
    if "Error" in last:
        code, message = last["Error"].get("Code", ""), last["Error"].get("Message", "")
        return f"function {name}: waiting for the update failed: {code}: {aws.one_line(message)}"

    status = last.get("LastUpdateStatus", "unknown")
    if status == "Failed":
        reason = aws.one_line(last.get("LastUpdateStatusReason", "no reason given"))
        code = last.get("LastUpdateStatusReasonCode", "")
        return (
            f"function {name}: the update failed ({code}): {reason}; fix that and run attach again"
        )
    return f"function {name}: update still {status} after the wait; check it in the console"
