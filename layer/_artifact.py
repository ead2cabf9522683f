"""The built layer zip and its manifest, checked before anything is sent to AWS."""

import base64
import dataclasses
import hashlib
import json
import logging
import tomllib
from pathlib import Path

from layer.errors import LayerError

__all__ = ["MAX_UNZIPPED_BYTES", "MAX_ZIP_BYTES", "Artifact", "default_zip", "load"]

ROOT = Path(__file__).resolve().parent.parent

# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 50 MB for a zip
# uploaded directly through the API, 250 MB unzipped for a function and all its layers.
MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024

REQUIRED_KEYS = (
    "name",
    "version",
    "distributions",
    "compatible_runtimes",
    "compatible_architectures",
    "sha256",
    "code_sha256",
    "license",
)

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
        """The layer version's Description: version, bundled cachetools, short sha256."""
        cachetools = self.manifest["distributions"].get("cachetools", "unknown")
        text = (
            f"{self.manifest['name']} {self.manifest['version']} with cachetools {cachetools}"
            f" (sha256 {self.manifest['sha256'][:12]})"
        )
        return text[:256]


def default_zip() -> Path:
    """dist/cached-clients-<version>.zip, the version read from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return ROOT / "dist" / f"{project['name']}-{project['version']}.zip"


def load(zip_path: Path | None) -> Artifact:
    """The zip and its manifest, or a LayerError when either is missing, stale or fails verify."""
    path = zip_path or default_zip()
    _check_exists(path, given=zip_path is not None)
    manifest_path = path.with_suffix(".json")
    manifest = _read_manifest(manifest_path)
    _check_sizes(path, manifest)

    content = path.read_bytes()
    _check_digests(path, content, manifest)
    _verify(path, manifest_path)
    return Artifact(zip_path=path, manifest=manifest, content=content)


def _check_exists(path: Path, *, given: bool) -> None:
    if path.is_file():
        return
    if given:
        raise LayerError(f"{path} does not exist; pass the zip that ./build_layer.sh built")
    raise LayerError(f"{path} does not exist; run ./build_layer.sh first (or pass --zip PATH)")


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayerError(
            f"no manifest {path} beside the zip; build with ./build_layer.sh, which writes both"
        ) from None
    except (OSError, ValueError) as error:
        raise LayerError(f"cannot read the manifest {path}: {error}; rebuild the layer") from None

    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise LayerError(f"the manifest {path} lacks {', '.join(missing)}; rebuild the layer")
    return manifest


def _check_sizes(path: Path, manifest: dict) -> None:
    size = path.stat().st_size
    if size > MAX_ZIP_BYTES:
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


def _check_digests(path: Path, content: bytes, manifest: dict) -> None:
    digest = hashlib.sha256(content)
    actual = {
        "sha256": digest.hexdigest(),
        "code_sha256": base64.b64encode(digest.digest()).decode("ascii"),
    }
    stale = [key for key, value in actual.items() if manifest[key] != value]
    if stale:
        raise LayerError(
            f"{path} does not match its manifest ({', '.join(stale)} differ); "
            "rebuild both with ./build_layer.sh"
        )


def _verify(zip_path: Path, manifest_path: Path) -> None:
    from layer.verify import verify

    logger.info("verifying %s", zip_path)
    problems = verify(zip_path, manifest_path)
    if problems:
        shown = "; ".join(" ".join(problem.split()) for problem in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise LayerError(
            f"{zip_path} fails verify: {shown}{more}; see ./build_layer.sh verify {zip_path}"
        )
