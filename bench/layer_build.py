"""The layer zip's sizes, the rebuild time and whether a rebuild is byte-identical."""

import tempfile
import zipfile
from pathlib import Path

from bench import _layer
from bench._timing import Settings
from bench.layer_import import without_bytecode
from bench.report import Figure, Goal, Row

__all__ = ["run"]

KB = 1000


def _sources_compressed(zip_path) -> int:
    with zipfile.ZipFile(zip_path) as archive:
        return sum(
            entry.compress_size
            for entry in archive.infolist()
            if not entry.filename.endswith(".pyc")
        )


def run(settings: Settings) -> list[Figure]:
    """Sizes from the first build; then rebuilds, timed, each compared with the first."""
    reason = _layer.missing()
    if reason:
        return [Figure("layer zip and rebuild", "", None, skipped=reason)]

    first = _layer.first_build()
    rebuilds = [_layer.build() for _ in range(1 if settings.quick else 3)]
    same = [float(again.manifest["sha256"] == first.manifest["sha256"]) for again in rebuilds]
    zip_kb = first.zip_path.stat().st_size / KB
    with tempfile.TemporaryDirectory() as scratch:
        sources_zip = without_bytecode(first.zip_path, Path(scratch) / "sources.zip")
        sources_zip_kb = sources_zip.stat().st_size / KB
    sources_kb = _sources_compressed(first.zip_path) / KB
    unzipped_kb = first.manifest["unzipped_bytes"] / KB
    note = (
        f"{first.zip_path.name}; rebuilds run right after a first build (warm pip cache), "
        f"first build {first.seconds:.1f} s; sources = every entry but .pyc, compressed"
    )
    return [
        Figure(
            "layer zip",
            "kB",
            Row("zip", [zip_kb], Goal.value_below(512, "kB")),
            [Row("the same zip without its bytecode", [sources_zip_kb])],
            note=note,
        ),
        Figure("layer sources", "kB", Row("compressed", [sources_kb], Goal.value_below(128, "kB"))),
        Figure("layer unzipped", "kB", Row("unzipped", [unzipped_kb])),
        Figure(
            "layer rebuild",
            "s",
            Row("rebuild time", [again.seconds for again in rebuilds], Goal.value_below(15, "s")),
        ),
        Figure(
            "layer rebuild sha256",
            "",
            Row(
                "same as the first build",
                same,
                Goal.value_equals(1, "equal"),
                shown_as=lambda value: "equal" if value == 1 else "differs",
            ),
        ),
    ]
