"""What a layer zip implies about itself, and where its manifest says otherwise."""

import datetime
import email.parser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from layer.bytecode import tags_of
from layer.entries import Entry
from layer.extensions import ARCHITECTURES, inspect_extension, is_extension
from layer.manifest import zip_digests
from layer.runtimes import RUNTIMES, compatible_runtimes

__all__ = ["ZipFacts", "disagreements", "zip_facts"]


@dataclass(frozen=True)
class ZipFacts:
    """Read from the entries alone: what is bundled, where it can run, which bytecode ships."""

    entries: list[Entry]
    distributions: dict[str, tuple[str | None, SpecifierSet]]
    has_extensions: bool
    architectures: list[str]
    tied_to: frozenset[tuple[int, int]]
    tags: frozenset[str]

    def runtimes(self, day: datetime.date) -> list[str]:
        """The runtimes a build on ``day`` would claim: the same rule and table as the build's."""
        specifiers = [requires for _, requires in self.distributions.values()]
        return [
            runtime.name
            for runtime in compatible_runtimes(specifiers, day)
            if all(runtime.version == version for version in self.tied_to)
        ]

    def versions(self) -> dict[str, str | None]:
        """Name -> version of every bundled distribution."""
        return {name: version for name, (version, _) in self.distributions.items()}


def zip_facts(entries: list[Entry]) -> ZipFacts:
    """The facts of a zip whose entries were read (and their faults reported) already."""
    extensions = [
        inspect_extension(entry.name, entry.head)
        for entry in entries
        if entry.fault is None and is_extension(entry.name)
    ]
    built_for = sorted({ext.architecture for ext in extensions if ext.architecture})
    return ZipFacts(
        entries=entries,
        distributions=_distributions(entries),
        has_extensions=bool(extensions),
        architectures=built_for if extensions else list(ARCHITECTURES),
        tied_to=frozenset(ext.python for ext in extensions if ext.python),
        tags=frozenset(tags_of(entry.name for entry in entries)),
    )


def disagreements(
    manifest: dict[str, Any],
    valid: set[str],
    zip_path: Path,
    facts: ZipFacts,
    today: datetime.date,
    *,
    label: str | None = None,
) -> list[str]:
    """Where the manifest's well-formed keys (``valid``) and the zip disagree, one line each,
    each beginning with ``label`` (default: the name of the manifest beside the zip)."""
    label = label or zip_path.with_suffix(".json").name
    problems = _values(manifest, valid, label, zip_path, facts)
    problems += _name_and_version(manifest, valid, label, facts)
    if "files" in valid:
        problems += _files(label, manifest["files"], facts.entries)
    if "compatible_runtimes" in valid:
        as_of = manifest["runtimes_as_of"] if "runtimes_as_of" in valid else today.isoformat()
        claimed = manifest["compatible_runtimes"]
        problems += _runtimes(claimed, label, facts, datetime.date.fromisoformat(as_of), today)
    if "compatible_architectures" in valid:
        problems += _architectures(manifest["compatible_architectures"], label, facts)
    if "bytecode" in valid and set(manifest["bytecode"]) != facts.tags:
        problems.append(
            f"{label}: bytecode lists {sorted(manifest['bytecode'])}, "
            f"the zip ships bytecode for {sorted(facts.tags)}"
        )
    return problems


def _values(
    manifest: dict[str, Any], valid: set[str], label: str, zip_path: Path, facts: ZipFacts
) -> list[str]:
    actual = {
        "zip": zip_path.name,
        **zip_digests(zip_path),
        "unzipped_bytes": sum(entry.size for entry in facts.entries if not entry.is_dir),
        "distributions": facts.versions(),
    }
    return [
        f"{label}: {key} says {manifest[key]!r}, the zip gives {value!r}"
        for key, value in actual.items()
        if key in valid and manifest[key] != value
    ]


def _name_and_version(
    manifest: dict[str, Any], valid: set[str], label: str, facts: ZipFacts
) -> list[str]:
    """The name must be a bundled distribution, and the version that distribution's."""
    if "name" not in valid:
        return []
    bundled = facts.versions()
    name = canonicalize_name(manifest["name"])
    if name not in bundled:
        return [f"{label}: name says {manifest['name']!r}, the zip bundles no such distribution"]
    if "version" in valid and manifest["version"] != bundled[name]:
        return [f"{label}: version says {manifest['version']!r}, the zip gives {bundled[name]!r}"]
    return []


def _files(label: str, listed: list[dict], entries: list[Entry]) -> list[str]:
    manifest_files = {item["path"]: (item["size"], item["sha256"]) for item in listed}
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


def _runtimes(
    claimed: list[str], label: str, facts: ZipFacts, as_of: datetime.date, today: datetime.date
) -> list[str]:
    """The claim must be what the build computes on its day, and none deprecated today."""
    expected = facts.runtimes(as_of)
    problems = [
        f"{label}: claims {name}, which is deprecated or ruled out by the bundled "
        f"distributions' Requires-Python or compiled extensions (as of {as_of})"
        for name in claimed
        if name not in expected
    ]
    problems += [
        f"{label}: leaves out {name}, which the bundled distributions admit and Lambda "
        f"supports (as of {as_of})"
        for name in expected
        if name not in claimed
    ]
    deprecated = {runtime.name: runtime.deprecated_on for runtime in RUNTIMES}
    problems += [
        f"{label}: claims {name}, deprecated since {deprecated[name]}; rebuild the layer"
        for name in claimed
        if name in expected and not today < deprecated[name]
    ]
    return problems


def _architectures(claimed: list[str], label: str, facts: ZipFacts) -> list[str]:
    if sorted(claimed) == facts.architectures:
        return []
    why = (
        "its compiled extensions say so"
        if facts.has_extensions
        else "it holds no compiled extension, so it runs on both"
    )
    return [
        f"{label}: compatible_architectures says {claimed}, "
        f"the zip implies {facts.architectures} ({why})"
    ]


def _distributions(entries: list[Entry]) -> dict[str, tuple[str | None, SpecifierSet]]:
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
