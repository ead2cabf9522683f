"""The manifest beside each layer zip: what it bundles, where it runs, and its digests."""

import base64
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from layer._output_dir import replacing
from layer.errors import LayerError, raise_for
from layer.manifest_schema import REQUIRED_KEYS, shape_problems

__all__ = [
    "REQUIRED_KEYS",
    "file_records",
    "load_manifest",
    "manifest_path",
    "read_manifest",
    "write_manifest",
    "zip_digests",
]


def manifest_path(zip_path: Path) -> Path:
    """Where the manifest of ``zip_path`` lives: the same name with ``.json``."""
    return zip_path.with_suffix(".json")


def read_manifest(zip_path: Path, path: Path | None = None) -> dict[str, Any]:
    """The JSON object in the manifest of ``zip_path`` (beside it unless ``path``), unchecked."""
    path = path or manifest_path(zip_path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayerError(f"{path}: no manifest for {zip_path.name}; run ./build_layer.sh") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LayerError(f"{path}: unreadable manifest ({error}); run ./build_layer.sh") from None

    if not isinstance(manifest, dict):
        raise LayerError(f"{path}: not a JSON object; run ./build_layer.sh")
    return manifest


def load_manifest(zip_path: Path, path: Path | None = None) -> dict[str, Any]:
    """The manifest of ``zip_path``, of the right shape; else LayerError saying what is wrong."""
    path = path or manifest_path(zip_path)
    manifest = read_manifest(zip_path, path)
    problems = [line for _, line in shape_problems(manifest)]
    raise_for(problems, str(path), "rebuild it with ./build_layer.sh")
    return manifest


def write_manifest(zip_path: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` beside ``zip_path`` in one step (never half a file)."""
    path = manifest_path(zip_path)
    with replacing(path) as partial:
        partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def zip_digests(zip_path: Path) -> dict[str, Any]:
    """The zip's size, hex sha256, and base64 sha256 (the form Lambda reports as CodeSha256)."""
    digest = hashlib.sha256(zip_path.read_bytes()).digest()
    return {
        "zip_bytes": zip_path.stat().st_size,
        "sha256": digest.hex(),
        "code_sha256": base64.b64encode(digest).decode("ascii"),
    }


def file_records(zip_path: Path) -> list[dict[str, Any]]:
    """Path, size and sha256 of every file entry (directories left out), in zip order."""
    with zipfile.ZipFile(zip_path) as archive:
        return [
            {
                "path": info.filename,
                "size": info.file_size,
                "sha256": hashlib.sha256(archive.read(info)).hexdigest(),
            }
            for info in archive.infolist()
            if not info.is_dir()
        ]
