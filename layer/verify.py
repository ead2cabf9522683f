"""``build_layer.sh verify [ZIP]``: every problem in a layer zip, then an import on each runtime."""

import argparse
import datetime
import email.parser
import logging
import re
import tomllib
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from layer.entries import Entry, check_entries, read_entries
from layer.errors import LayerError
from layer.extensions import ARCHITECTURES
from layer.manifest import load_manifest, manifest_path, zip_digests
from layer.runtimes import compatible_runtimes, today_utc
from layer.smoke import smoke_test

__all__ = ["main", "verify"]

logger = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parent.parent
_TAG = re.compile(r"\.(cpython-\d+)\.pyc$")


def main(argv: list[str]) -> int:
    """Print one line per problem found in the zip; exit 1 if there is any."""
    arguments = _parser().parse_args(argv)
    zip_path = arguments.zip or _default_zip()
    problems = verify(zip_path, arguments.manifest, smoke=not arguments.no_smoke)
    for problem in problems:
        print(problem)
    if problems:
        logger.error("%s: %d problem(s); fix them and build again", zip_path.name, len(problems))
        return 1
    logger.info("%s: no problems found", zip_path.name)
    return 0


def verify(
    zip_path: Path,
    manifest_path: Path | None = None,
    *,
    smoke: bool = True,
    today: datetime.date | None = None,
) -> list[str]:
    """Every problem found in the zip and its manifest (beside it unless given); [] if none."""
    if not zip_path.is_file():
        raise LayerError(f"{zip_path}: no such file; run ./build_layer.sh to build it")

    entries, problems = read_entries(zip_path)
    if problems:
        return problems

    manifest, manifest_problems = _manifest(zip_path, manifest_path)
    architectures = _claimed_architectures(manifest)
    problems = check_entries(entries, architectures) + manifest_problems
    distributions = _distributions(entries)
    runtimes = _allowed_runtimes(distributions, today)
    if manifest:
        problems += _compare(manifest, entries, zip_path, distributions, runtimes)

    unreadable = any(entry.fault for entry in entries)
    if smoke and not unreadable and runtimes:
        claimed = manifest["compatible_runtimes"] if manifest else runtimes
        expected = {name: version for name, (version, _) in distributions.items()}
        problems += smoke_test(zip_path, list(claimed), expected, _shipped_tags(entries))
    return problems


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build_layer.sh verify",
        description="Check a layer zip's layout and manifest, then import it under every "
        "local interpreter among its compatible runtimes, from a read-only copy.",
    )
    parser.add_argument(
        "zip", nargs="?", type=Path, help="the zip (default: this version's in dist/)"
    )
    parser.add_argument(
        "--manifest", type=Path, metavar="FILE", help="default: the .json beside the zip"
    )
    parser.add_argument(
        "--no-smoke", action="store_true", help="check the layout and manifest only"
    )
    return parser


def _default_zip() -> Path:
    with (PROJECT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    return PROJECT / "dist" / f"{project['name']}-{project['version']}.zip"


def _manifest(zip_path: Path, path: Path | None) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        return load_manifest(zip_path, path), []
    except LayerError as error:
        return None, [str(error)]


def _claimed_architectures(manifest: dict[str, Any] | None) -> list[str]:
    if manifest and isinstance(manifest.get("compatible_architectures"), list):
        return manifest["compatible_architectures"]
    return list(ARCHITECTURES)


def _distributions(entries: list[Entry]) -> dict[str, tuple[str, SpecifierSet]]:
    """Name -> (version, Requires-Python) read from each dist-info METADATA in the zip."""
    found = {}
    for entry in entries:
        if entry.data is None or entry.name.count("/") != 2:
            continue
        metadata = email.parser.Parser().parsestr(entry.data.decode("utf-8", "replace"))
        try:
            requires = SpecifierSet(metadata.get("Requires-Python") or "")
        except InvalidSpecifier:
            requires = SpecifierSet("<0")
        found[canonicalize_name(metadata.get("Name", "?"))] = (metadata.get("Version"), requires)
    return found


def _allowed_runtimes(
    distributions: dict[str, tuple[str, SpecifierSet]], today: datetime.date | None
) -> list[str]:
    specifiers = [requires for _, requires in distributions.values()]
    return [runtime.name for runtime in compatible_runtimes(specifiers, today or today_utc())]


def _shipped_tags(entries: list[Entry]) -> set[str]:
    return {match[1] for entry in entries if (match := _TAG.search(entry.name))}


def _compare(
    manifest: dict[str, Any],
    entries: list[Entry],
    zip_path: Path,
    distributions: dict[str, tuple[str, SpecifierSet]],
    runtimes: list[str],
) -> list[str]:
    """Where the manifest and the zip disagree, each line naming the key or the file."""
    label = manifest_path(zip_path).name
    actual = {
        "zip": zip_path.name,
        **zip_digests(zip_path),
        "unzipped_bytes": sum(entry.size for entry in entries if not entry.is_dir),
        "distributions": {name: version for name, (version, _) in distributions.items()},
    }
    own = distributions.get(canonicalize_name(str(manifest["name"])))
    actual["version"] = own[0] if own else None
    problems = [
        f"{label}: {key} says {manifest[key]!r}, the zip gives {value!r}"
        for key, value in actual.items()
        if manifest[key] != value
    ]
    problems += _compare_files(label, manifest["files"], entries)
    problems += [
        f"{label}: claims {name}, which is deprecated or outside what the bundled "
        "distributions' Requires-Python admit"
        for name in manifest["compatible_runtimes"]
        if name not in runtimes
    ]
    return problems


def _compare_files(label: str, listed: Any, entries: list[Entry]) -> list[str]:
    try:
        manifest_files = {item["path"]: (item["size"], item["sha256"]) for item in listed}
    except (TypeError, KeyError):
        return [f"{label}: files must list {{path, size, sha256}} objects"]

    zip_files = {entry.name: (entry.size, entry.sha256) for entry in entries if not entry.is_dir}
    problems = []
    for name in sorted(manifest_files.keys() | zip_files.keys()):
        if name not in zip_files:
            problems.append(f"{name}: listed in {label} but not in the zip")
        elif name not in manifest_files:
            problems.append(f"{name}: in the zip but not listed in {label}")
        elif manifest_files[name] != zip_files[name]:
            problems.append(f"{name}: size or sha256 differs from {label}")
    return problems
