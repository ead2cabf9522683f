"""``build_layer.sh build``: the layer zip and its manifest, the same bytes on every rebuild."""

import argparse
import datetime
import logging
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from layer import staging
from layer._args import Parser
from layer._output_dir import output_directory, replacing
from layer.bytecode import compile_layer
from layer.distributions import Distribution, read_distributions, unmet_requirements
from layer.errors import LayerError
from layer.extensions import ARCHITECTURES, inspect_extension, is_extension
from layer.manifest import file_records, write_manifest, zip_digests
from layer.runtimes import Runtime, compatible_runtimes, supported_runtimes, today_utc
from layer.zipfile_repro import entry_date_time, write_zip

__all__ = ["MAX_DIRECT_UPLOAD_BYTES", "MAX_UNZIPPED_BYTES", "BuildSettings", "build", "main"]

logger = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parent.parent
# Lambda's quotas: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_UNZIPPED_BYTES = 262_144_000  # a function and all its layers, unzipped
MAX_DIRECT_UPLOAD_BYTES = 52_428_800  # a zip sent in the API call itself; larger goes via S3


@dataclass(frozen=True)
class BuildSettings:
    """Everything a build depends on besides the sources; the defaults are Lambda's."""

    output_dir: Path = PROJECT / "dist"
    requirements: Path = PROJECT / "layer" / "requirements.txt"
    architecture: str = "x86_64"
    today: datetime.date = field(default_factory=today_utc)
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES
    warn_zip_bytes: int = MAX_DIRECT_UPLOAD_BYTES
    project: Path = PROJECT
    interpreters: tuple[tuple[int, int], ...] | None = None  # None: every local one in range


def main(argv: list[str]) -> int:
    """Build the layer; print the zip's path on stdout."""
    arguments = _parser().parse_args(argv)
    settings = BuildSettings(
        output_dir=arguments.output_dir.resolve(),
        requirements=arguments.requirements.resolve(),
        architecture=arguments.architecture,
        today=arguments.today,
        max_unzipped_bytes=arguments.max_unzipped_bytes,
        warn_zip_bytes=arguments.warn_zip_bytes,
        interpreters=arguments.interpreters,
    )
    print(build(settings))
    return 0


def build(settings: BuildSettings) -> Path:
    """Stage, check, compile and zip the layer; return the zip's path (manifest beside it)."""
    name, version, license_name = _project_facts(settings.project)
    date_time = entry_date_time()
    with (
        output_directory(settings.output_dir),
        tempfile.TemporaryDirectory(prefix="cached-clients-build-") as work,
    ):
        staged = _stage(settings, Path(work) / "opt")
        zip_path = settings.output_dir / f"{name}-{version}.zip"
        _write_zip(staged.root, zip_path, date_time)

    manifest = {
        "name": name,
        "version": version,
        "zip": zip_path.name,
        "license": license_name,
        "distributions": {dist.name: dist.version for dist in staged.distributions},
        "licenses": {dist.name: dist.license for dist in staged.distributions},
        "compatible_runtimes": [runtime.name for runtime in staged.runtimes],
        "runtimes_as_of": settings.today.isoformat(),
        "compatible_architectures": staged.architectures,
        "bytecode": staged.bytecode,
        "installed_for": {
            "platform": staging.PLATFORMS[settings.architecture],
            "implementation": "cp",
            "python_version": staged.python_version,
        },
        **_sizes_and_digests(zip_path, settings.warn_zip_bytes),
        "files": file_records(zip_path),
    }
    write_manifest(zip_path, manifest)
    logger.info("built %s (%d bytes)", zip_path, manifest["zip_bytes"])
    return zip_path


@dataclass(frozen=True)
class _Staged:
    root: Path
    distributions: list[Distribution]
    architectures: list[str]
    runtimes: list[Runtime]
    bytecode: dict[str, str]
    python_version: str


def _stage(settings: BuildSettings, root: Path) -> _Staged:
    """Install, tidy, check and compile the layer's tree under ``root/python``."""
    python_dir = root / "python"
    python_version = _oldest_supported(settings.today).version_text
    wheel = staging.build_wheel(settings.project, root.parent)
    staging.install(
        python_dir,
        settings.requirements,
        wheel,
        architecture=settings.architecture,
        python_version=python_version,
    )
    for removed in staging.tidy(python_dir):
        logger.info("left out python/%s", removed)

    distributions = _checked_distributions(python_dir, python_version, settings)
    architectures, tied_to = _architectures(python_dir, settings.architecture)
    runtimes = _runtimes(distributions, tied_to, settings.today)
    bytecode = compile_layer(root, runtimes, settings.interpreters)
    _check_unzipped_size(python_dir, settings.max_unzipped_bytes)
    return _Staged(root, distributions, architectures, runtimes, bytecode, python_version)


def _parser() -> Parser:
    parser = Parser(
        prog="build_layer.sh build",
        description="Build dist/cached-clients-<version>.zip and its manifest (.json beside it).",
    )
    parser.add_argument("--output-dir", type=Path, default=PROJECT / "dist", metavar="DIR")
    parser.add_argument(
        "--requirements",
        type=_readable_file,
        default=PROJECT / "layer" / "requirements.txt",
        metavar="FILE",
        help="what to bundle besides cached_clients, pinned with --hash (default: %(default)s)",
    )
    parser.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="x86_64",
        help="the platform of any binary wheel (default: %(default)s; a pure layer runs on both)",
    )
    parser.add_argument(
        "--today",
        type=datetime.date.fromisoformat,
        default=today_utc(),
        metavar="YYYY-MM-DD",
        help="the day whose non-deprecated runtimes the layer claims (default: today, UTC)",
    )
    parser.add_argument(
        "--interpreters",
        type=_versions,
        metavar="3.X[,3.Y...]",
        help="compile bytecode with these local Pythons only (default: every local one among "
        "the compatible runtimes); each one changes the zip's bytes",
    )
    parser.add_argument(
        "--max-unzipped-bytes",
        type=_positive_int,
        default=MAX_UNZIPPED_BYTES,
        metavar="N",
        help="fail above this unzipped size; lower it to leave room for the function and "
        "its other layers (default: Lambda's limit, %(default)s)",
    )
    parser.add_argument(
        "--warn-zip-bytes",
        type=_positive_int,
        default=MAX_DIRECT_UPLOAD_BYTES,
        metavar="N",
        help="warn above this zip size, which must go through S3 (default: %(default)s)",
    )
    return parser


def _positive_int(text: str) -> int:
    """A byte count given on the command line: a whole number above zero."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes above 0")
    return number


def _readable_file(text: str) -> Path:
    """A requirements file that exists, checked before the wheel is built."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a file")
    return path


def _versions(text: str) -> tuple[tuple[int, int], ...]:
    """The versions in "3.11,3.12", as ((3, 11), (3, 12))."""
    versions = []
    for part in text.split(","):
        major, dot, minor = part.strip().partition(".")
        if not (dot and major.isdigit() and minor.isdigit()):
            raise argparse.ArgumentTypeError(f"{part!r} is not a Python version such as 3.12")
        versions.append((int(major), int(minor)))
    return tuple(sorted(set(versions)))


def _project_facts(project: Path) -> tuple[str, str, str]:
    with (project / "pyproject.toml").open("rb") as file:
        metadata = tomllib.load(file)["project"]
    license_value = metadata.get("license", "")
    if isinstance(license_value, dict):
        license_value = license_value.get("text", "")
    return metadata["name"], metadata["version"], license_value


def _oldest_supported(today: datetime.date) -> Runtime:
    supported = supported_runtimes(today)
    if not supported:
        raise LayerError(f"no Lambda Python runtime is supported on {today}; update layer/runtimes")
    return supported[0]


def _checked_distributions(
    python_dir: Path, python_version: str, settings: BuildSettings
) -> list[Distribution]:
    distributions = read_distributions(python_dir)
    environment = {
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "aarch64" if settings.architecture == "arm64" else "x86_64",
    }
    unmet = unmet_requirements(distributions, environment)
    if unmet:
        raise LayerError(f"{'; '.join(unmet)}; pin a matching version in {settings.requirements}")
    return distributions


def _architectures(python_dir: Path, target: str) -> tuple[list[str], set[tuple[int, int]]]:
    """Both architectures for a pure layer; else the target's, after checking every binary."""
    extensions = []
    for path in sorted(python_dir.rglob("*")):
        name = path.relative_to(python_dir.parent).as_posix()
        if path.is_file() and is_extension(name):
            with path.open("rb") as file:
                extensions.append(inspect_extension(name, file.read(64)))
    if not extensions:
        return list(ARCHITECTURES), set()

    faults = [fault for fault in (ext.fault([target]) for ext in extensions) if fault]
    if faults:
        raise LayerError(f"{'; '.join(faults)}; bundle a wheel built for {target}")
    logger.info("compiled extensions found, so the layer runs on %s only", target)
    return [target], {ext.python for ext in extensions if ext.python}


def _runtimes(
    distributions: list[Distribution], tied_to: set[tuple[int, int]], today: datetime.date
) -> list[Runtime]:
    runtimes = compatible_runtimes([dist.requires_python for dist in distributions], today)
    runtimes = [runtime for runtime in runtimes if all(runtime.version == v for v in tied_to)]
    if not runtimes:
        wanted = ", ".join(f"{dist.name} {dist.requires_python or 'any'}" for dist in distributions)
        raise LayerError(
            f"no Lambda Python runtime supported on {today} satisfies {wanted}"
            + (f" and extensions for {sorted(tied_to)}" if tied_to else "")
            + "; change the pins in layer/requirements.txt"
        )
    return runtimes


def _check_unzipped_size(python_dir: Path, limit: int) -> None:
    total = sum(path.stat().st_size for path in python_dir.rglob("*") if path.is_file())
    if total > limit:
        raise LayerError(
            f"the layer is {total:,} bytes unzipped, over the limit of {limit:,}; "
            "bundle less (a function and all its layers share Lambda's 262,144,000 bytes)"
        )


def _write_zip(stage: Path, zip_path: Path, date_time: tuple[int, ...]) -> None:
    with replacing(zip_path) as partial:
        write_zip(stage, partial, date_time)


def _sizes_and_digests(zip_path: Path, warn_zip_bytes: int) -> dict[str, int | str]:
    digests = zip_digests(zip_path)
    if digests["zip_bytes"] > warn_zip_bytes:
        logger.warning(
            "%s is %d bytes, over %d: upload it through S3 (as sam deploy does), "
            "not directly in the API call",
            zip_path.name,
            digests["zip_bytes"],
            warn_zip_bytes,
        )
    unzipped = sum(record["size"] for record in file_records(zip_path))
    return {"unzipped_bytes": unzipped, **digests}
