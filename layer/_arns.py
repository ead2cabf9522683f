"""Lambda layer-version and function ARNs: parsing, and which layer an ARN is a version of."""

import dataclasses
import re

from layer.errors import LayerError

__all__ = [
    "REGION",
    "LayerVersionArn",
    "check_function",
    "layer_and_version",
    "parse_layer_version_arn",
]

# A region name as botocore's partitions write them: us-east-1, us-gov-west-1, us-isob-east-1,
# and eusc-de-east-1 (the European Sovereign Cloud), whose prefix has four letters.
REGION = r"[a-z]{2,4}(?:-[a-z]+)+-\d+"

# The patterns of Lambda's API reference (LayerVersionArn, FunctionName), made strict.
LAYER_ARN = (
    rf"arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>{REGION}):"
    r"(?P<account>\d{12}):layer:(?P<name>[A-Za-z0-9_-]{1,140})"
)
LAYER_VERSION_ARN = re.compile(LAYER_ARN + r":(?P<version>[0-9]+)")
UNVERSIONED_LAYER_ARN = re.compile(LAYER_ARN)
FUNCTION_ARN = re.compile(
    rf"arn:aws[a-z-]*:lambda:(?P<region>{REGION}):\d{{12}}:function:"
    r"[A-Za-z0-9_-]{1,64}(?P<qualifier>:[A-Za-z0-9$_-]+)?"
)
FUNCTION_NAME = re.compile(r"(\d{12}:function:)?[A-Za-z0-9_-]{1,64}")

LAYER_ARN_FORM = "arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"


@dataclasses.dataclass(frozen=True)
class LayerVersionArn:
    """A parsed layer version ARN; ``layer_arn`` is the same ARN without its version."""

    arn: str
    region: str
    account: str
    name: str
    version: int

    @property
    def layer_arn(self) -> str:
        """The ARN of the layer itself, shared by all its versions."""
        return self.arn.rsplit(":", 1)[0]


def parse_layer_version_arn(text: str) -> LayerVersionArn:
    """Parse a versioned layer ARN, or raise LayerError saying what form is expected."""
    match = LAYER_VERSION_ARN.fullmatch(text)
    if match:
        return LayerVersionArn(
            arn=text,
            region=match["region"],
            account=match["account"],
            name=match["name"],
            version=int(match["version"]),
        )

    if UNVERSIONED_LAYER_ARN.fullmatch(text):
        raise LayerError(
            f"--layer-arn {text} has no version; append ':VERSION' (see 'aws lambda "
            f"list-layer-versions --layer-name {text.rsplit(':', 1)[1]}')"
        )
    raise LayerError(f"--layer-arn {text!r} is not a layer version ARN; expected {LAYER_ARN_FORM}")


def layer_and_version(arn: str) -> tuple[str, int] | None:
    """(layer ARN without version, version number) of a layer version ARN, else None."""
    match = LAYER_VERSION_ARN.fullmatch(arn)
    if not match:
        return None
    return arn.rsplit(":", 1)[0], int(match["version"])


def check_function(function: str, region: str) -> None:
    """Refuse a function that is neither a name nor an unqualified ARN in ``region``."""
    match = FUNCTION_ARN.fullmatch(function)
    if match:
        if match["region"] != region:
            raise LayerError(
                f"function {function} is in {match['region']} but the layer is in {region}; "
                "a function can only use layers from its own region: publish there first"
            )
        if match["qualifier"] not in (None, ":$LATEST"):
            raise LayerError(
                f"function {function} names a version or alias; layers are set on the "
                "unpublished function: drop the qualifier"
            )
        return

    if not FUNCTION_NAME.fullmatch(function):
        raise LayerError(
            f"--function {function!r} is neither a function name nor a function ARN; give "
            "NAME or arn:aws:lambda:REGION:ACCOUNT:function:NAME"
        )
