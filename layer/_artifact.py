"""The built layer zip and its manifest, checked before anything is sent to AWS."""

import dataclasses
import logging
import tomllib
from pathlib import Path

from layer._description import describe
from layer.build import MAX_DIRECT_UPLOAD_BYTES, MAX_UNZIPPED_BYTES
from layer.errors import LayerError, raise_for
from layer.manifest import load_manifest, manifest_path, zip_digests
from layer.verify import verify

__all__ = ["Artifact", "default_zip", "load"]

ROOT = Path(__file__).resolve().parent.parent

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Artifact:
    """A layer zip that matches its manifest and passed verify."""

    zip_path: Path
    manifest: dict
    content: bytes

    @property
    def code_sha256(self) -> str:
        """Lambda's CodeSha256 of the zip: base64 of its raw SHA-256 digest."""
        return self.manifest["code_sha256"]

    def description(self) -> str:
        """The layer version's Description: version, cachetools, short sha256, bytecode tags."""
        return describe(self.manifest)

    @property
    def bytecode_tags(self) -> frozenset[str]:
        """The cache tags of the bytecode the zip ships, as "cpython-312"."""
        return frozenset(self.manifest["bytecode"])


def default_zip() -> Path:
    """dist/cached-clients-<version>.zip, the version read from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return ROOT / "dist" / f"{project['name']}-{project['version']}.zip"


def load(zip_path: Path | None) -> Artifact:
    """The zip and its manifest, or a LayerError when either is missing, stale or fails verify."""
    path = zip_path or default_zip()
    _check_exists(path, given=zip_path is not None)
    manifest = load_manifest(path)
    _check_sizes(path, manifest)
    content = _read(path)
    _check_digests(path, manifest)

    _verify(path, manifest_path(path))
    return Artifact(zip_path=path, manifest=manifest, content=content)


def _check_exists(path: Path, *, given: bool) -> None:
    if path.is_file():
        return
    if path.exists():
        raise LayerError(f"{path} is not a file; pass the zip that ./build_layer.sh built")
    if given:
        raise LayerError(f"{path} does not exist; pass the zip that ./build_layer.sh built")
    raise LayerError(f"{path} does not exist; run ./build_layer.sh first (or pass --zip PATH)")


def _read(path: Path) -> bytes:
    """The zip's bytes; a zip that cannot be read (permissions, I/O) is one line, not a trace."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise LayerError(
            f"{path} cannot be read ({error.strerror}); check its permissions or build it again"
        ) from None


def _check_sizes(path: Path, manifest: dict) -> None:
    size = path.stat().st_size
    if size > MAX_DIRECT_UPLOAD_BYTES:
        raise LayerError(
            f"{path} is {size / 2**20:.1f} MiB, over the 50 MiB Lambda takes directly; upload it "
            "to S3 and run 'aws lambda publish-layer-version --content S3Bucket=B,S3Key=K ...'"
        )

    unzipped = manifest.get("unzipped_bytes", 0)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise LayerError(
            f"{path} unpacks to {unzipped / 2**20:.1f} MiB, over Lambda's 250 MiB for a "
            "function and its layers; bundle less"
        )


def _check_digests(path: Path, manifest: dict) -> None:
    actual = zip_digests(path)
    stale = [key for key in ("sha256", "code_sha256") if manifest[key] != actual[key]]
    if stale:
        raise LayerError(
            f"{path} does not match its manifest ({', '.join(stale)} differ); "
            "rebuild both with ./build_layer.sh"
        )


def _verify(zip_path: Path, manifest: Path) -> None:
    logger.info("verifying %s", zip_path)
    problems = verify(zip_path, manifest)
    raise_for(problems, f"{zip_path} fails verify", "fix that and build again")
