"""Share a layer version with an account, an organization or everyone, exactly once."""

import dataclasses
import json
import logging
import re

from botocore.exceptions import ClientError

from layer import aws
from layer.errors import LayerError

__all__ = ["Share", "ensure_shared", "parse_share"]

ACCOUNT = re.compile(r"\d{12}")
ORGANIZATION = re.compile(r"o-[a-z0-9]{10,32}")
ACTION = "lambda:GetLayerVersion"

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Share:
    """One --share-with target and the permission statement that grants it."""

    target: str
    principal: str
    organization_id: str | None = None

    @property
    def statement_id(self) -> str:
        """Stable per target, so that a second run finds the statement the first one added."""
        return f"cached-clients-{self.target}"

    def permission(self) -> dict:
        """AddLayerVersionPermission's arguments for this target (without the layer version)."""
        extra = {"OrganizationId": self.organization_id} if self.organization_id else {}
        return {
            "StatementId": self.statement_id,
            "Action": ACTION,
            "Principal": self.principal,
            **extra,
        }


def parse_share(text: str) -> Share:
    """A Share from ``ACCOUNT`` (12 digits), ``o-ORGID`` or ``public``; else a LayerError."""
    if ACCOUNT.fullmatch(text):
        return Share(target=text, principal=text)
    if ORGANIZATION.fullmatch(text):
        return Share(target=text, principal="*", organization_id=text)
    if text == "public":
        return Share(target=text, principal="*")
    raise LayerError(
        f"--share-with {text!r} is not an account, an organization or 'public'; give a "
        "12-digit account id, o-ORGID (o- and 10 to 32 lower-case letters or digits) or public"
    )


def ensure_shared(client, layer_name: str, version: int, share: Share, *, dry_run: bool) -> str:
    """Grant ``share`` on the layer version unless its statement is there; returns what happened."""
    if share.statement_id in _statement_ids(client, layer_name, version):
        return "present"
    if dry_run:
        return "would-add"

    logger.info("sharing %s:%d with %s", layer_name, version, share.target)
    with aws.translated(f"layer {layer_name}:{version}"):
        try:
            client.add_layer_version_permission(
                LayerName=layer_name, VersionNumber=version, **share.permission()
            )
        except ClientError as error:
            # Lambda's answer to a repeated StatementId: someone added it since we looked.
            if aws.error_code(error) != "ResourceConflictException":
                raise
            return "present"
    return "added"


def _statement_ids(client, layer_name: str, version: int) -> set[str]:
    with aws.translated(f"layer {layer_name}:{version}"):
        try:
            response = client.get_layer_version_policy(LayerName=layer_name, VersionNumber=version)
        except ClientError as error:
            if aws.error_code(error) == "ResourceNotFoundException":
                return set()
            raise

    statements = json.loads(response["Policy"]).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return {statement.get("Sid", "") for statement in statements}
