"""``build_layer.sh verify [ZIP]``: every problem in a layer zip, then an import on each runtime."""

import datetime
import logging
import tomllib
from pathlib import Path
from typing import Any

from layer import build
from layer._agreement import ZipFacts, disagreements, zip_facts
from layer._args import Parser
from layer.entries import check_entries, path_conflicts, read_entries
from layer.errors import LayerError, printable
from layer.extensions import ARCHITECTURES
from layer.manifest import manifest_path, read_manifest
from layer.manifest_schema import shape_problems
from layer.runtimes import today_utc
from layer.smoke import smoke_test

__all__ = ["main", "verify"]

logger = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    """Print one line per problem found in the zip; exit 1 if there is any."""
    arguments = _parser().parse_args(argv)
    zip_path = arguments.zip or _default_zip()
    problems = verify(zip_path, arguments.manifest, smoke=not arguments.no_smoke)
    for problem in problems:
        print(printable(problem))
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
        if zip_path.exists():  # a directory, a pipe or a device
            raise LayerError(f"{zip_path} is not a file; pass the zip that ./build_layer.sh built")
        raise LayerError(f"{zip_path}: no such file; run ./build_layer.sh to build it")

    entries, problems = read_entries(zip_path)
    if problems:
        return problems

    day = today or today_utc()
    facts = zip_facts(entries)
    manifest, valid, problems = _manifest(zip_path, manifest_path)
    claimed = _claimed(manifest, valid, facts, day)
    problems = check_entries(entries, claimed["compatible_architectures"]) + problems
    oversized = _size_problems(zip_path, entries)
    problems += oversized
    if manifest is not None:
        label = manifest_path.name if manifest_path else None
        problems += disagreements(manifest, valid, zip_path, facts, day, label=label)

    # Lambda could not unpack such a zip either, and unpacking it here would fail half-way
    # (or, for one over Lambda's size limit, fill the disk).
    unpackable = (
        not any(entry.fault for entry in entries) and not path_conflicts(entries) and not oversized
    )
    if smoke and unpackable and claimed["compatible_runtimes"]:
        names = {entry.name for entry in entries}
        runtimes = claimed["compatible_runtimes"]
        problems += smoke_test(zip_path, runtimes, facts.versions(), names)
    return problems


def _size_problems(zip_path: Path, entries: list) -> list[str]:
    """A line if the entries unpack to more than Lambda allows (publish refuses that too)."""
    limit = build.MAX_UNZIPPED_BYTES
    unzipped = sum(entry.size for entry in entries if not entry.is_dir)
    if unzipped <= limit:
        return []
    return [
        f"{zip_path.name}: unpacks to {unzipped:,} bytes, over the {limit:,} that Lambda allows "
        "a function and all its layers together"
    ]


def _parser() -> Parser:
    parser = Parser(
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
        "--no-smoke",
        action="store_true",
        help="check the layout and manifest only: run no interpreter (so no import, and no "
        "check of the bytecode against its source)",
    )
    return parser


def _default_zip() -> Path:
    with (PROJECT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    return PROJECT / "dist" / f"{project['name']}-{project['version']}.zip"


def _manifest(
    zip_path: Path, path: Path | None
) -> tuple[dict[str, Any] | None, set[str], list[str]]:
    """The manifest, its keys that are present and well-formed, and a line per fault."""
    try:
        manifest = read_manifest(zip_path, path)
    except LayerError as error:
        return None, set(), [str(error)]

    label = (path or manifest_path(zip_path)).name
    shape = shape_problems(manifest)
    broken = {key for key, _ in shape}
    valid = {key for key in manifest if key not in broken}
    return manifest, valid, [f"{label}: {line}" for _, line in shape]


def _claimed(
    manifest: dict[str, Any] | None, valid: set[str], facts: ZipFacts, day: datetime.date
) -> dict[str, list[str]]:
    """What the manifest claims where it can be trusted, else what the zip implies."""
    implied = {
        "compatible_runtimes": facts.runtimes(day),
        "compatible_architectures": facts.architectures or list(ARCHITECTURES),
    }
    return {
        key: manifest[key] if manifest is not None and key in valid else value
        for key, value in implied.items()
    }
