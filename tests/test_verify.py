"""``build_layer.sh verify``: every fault in a layer zip is found, named and reported."""

import datetime
import json
import os
import shutil
import stat
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BuiltLayer

from layer.cli import main as cli
from layer.errors import LayerError, raise_for
from layer.interpreters import discover
from layer.runtimes import RUNTIMES
from layer.verify import verify

pytestmark = pytest.mark.layer

Transform = Callable[[zipfile.ZipInfo, bytes], list[tuple[zipfile.ZipInfo, bytes]]]


def test_the_built_layer_has_no_problem(
    built_layer: BuiltLayer, capsys: pytest.CaptureFixture
) -> None:
    assert verify(built_layer.zip_path) == []
    assert cli(["verify", str(built_layer.zip_path)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("damage", ["data", "crc"])
def test_a_corrupted_zip_is_refused_naming_the_entry(
    built_layer: BuiltLayer, tmp_path: Path, capsys: pytest.CaptureFixture, damage: str
) -> None:
    damaged = copy_layer(built_layer, tmp_path)
    corrupt = flip_a_byte_inside if damage == "data" else flip_the_recorded_crc
    corrupt(damaged, "python/cachetools/func.py")

    assert cli(["verify", str(damaged)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("python/cachetools/func.py: corrupted entry ("), lines
    if damage == "crc":
        assert "Bad CRC-32" in lines[0]


def test_a_zip_whose_directory_asks_for_an_unknown_zip_version_is_refused(
    built_layer: BuiltLayer, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    damaged = copy_layer(built_layer, tmp_path)
    data = bytearray(damaged.read_bytes())
    header = central_header(data, "python/cachetools/func.py")
    data[header + 6] = 255  # "version needed to extract": 25.5, beyond what zip readers know
    damaged.write_bytes(bytes(data))

    assert cli(["verify", str(damaged)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{damaged.name}: not a readable zip file (zip file version 25.5)"
    ]


def test_an_entry_time_that_is_no_date_does_not_stop_the_smoke_test(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    zip_path = copy_layer(built_layer, tmp_path)
    data = bytearray(zip_path.read_bytes())
    header = central_header(data, "python/cachetools/func.py")
    data[header + 14 : header + 16] = (1).to_bytes(2, "little")  # DOS date 1980, month 0, day 1
    zip_path.write_bytes(bytes(data))
    rebuild_manifest(built_layer, zip_path)

    assert verify(zip_path) == []


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "cached-clients-1.0.0.zip"
    fake.write_bytes(b"PK\x03\x04 but nothing after")

    assert verify(fake) == [
        "cached-clients-1.0.0.zip: not a readable zip file (File is not a zip file)"
    ]


@pytest.mark.parametrize("cut", ["half", "tail"])
def test_a_truncated_zip_is_refused(
    built_layer: BuiltLayer, tmp_path: Path, capsys: pytest.CaptureFixture, cut: str
) -> None:
    zip_path = copy_layer(built_layer, tmp_path)
    data = zip_path.read_bytes()
    zip_path.write_bytes(data[: len(data) // 2] if cut == "half" else data[:-10])

    assert cli(["verify", str(zip_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{zip_path.name}: not a readable zip file (File is not a zip file)"
    ]


def test_a_zip_without_the_python_prefix_is_refused(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    def strip_prefix(info: zipfile.ZipInfo, data: bytes) -> list:
        name = info.filename.removeprefix("python/")
        return [(renamed(info, name), data)] if name else []

    flat = rewrite(built_layer, tmp_path, strip_prefix)
    problems = verify(flat, built_layer.manifest_path, smoke=False)

    assert "cachetools/__init__.py: outside python/, so not on the function's sys.path" in problems
    assert "python/cached_clients/: missing; the layer must bundle cached_clients" in problems
    assert "python/cachetools/: missing; the layer must bundle cachetools" in problems


def test_an_entry_only_its_owner_can_read_is_refused(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    def private(info: zipfile.ZipInfo, data: bytes) -> list:
        if info.filename == "python/cachetools/keys.py":
            info.external_attr = (stat.S_IFREG | 0o600) << 16
        return [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, private, keep_manifest=False), smoke=False)

    assert len(problems) == 1, problems
    assert problems[0].startswith("python/cachetools/keys.py: mode 0600 is unreadable")


def test_links_absolute_and_escaping_paths_are_each_refused(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    link = zipfile.ZipInfo("python/cachetools/link.py", (1980, 1, 1, 0, 0, 0))
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    pipe = regular("python/cachetools/pipe")
    pipe.external_attr = (stat.S_IFIFO | 0o644) << 16
    extra = [
        (link, b"/etc/passwd"),
        (pipe, b""),
        (zipfile.ZipInfo("/python/absolute.py"), b""),
        (zipfile.ZipInfo("python/../escape.py"), b""),
    ]

    def add(info: zipfile.ZipInfo, data: bytes) -> list:
        return [(info, data), *extra] if info.filename == "python/" else [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, add, keep_manifest=False), smoke=False)

    assert "python/cachetools/link.py: symbolic link; Lambda layers hold regular files" in problems
    assert (
        "python/cachetools/pipe: a pipe, socket or device; Lambda layers hold regular files"
    ) in problems
    assert "/python/absolute.py: absolute path" in problems
    assert "python/../escape.py: '..' in the path leads outside the layer" in problems


def test_a_layer_over_lambdas_unzipped_limit_is_refused_and_not_unpacked(
    built_layer: BuiltLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # publish refuses such a zip, so verify must not call it fine; a limit the built layer
    # exceeds stands in for a zip of more than 250 MiB.
    limit = built_layer.manifest["unzipped_bytes"] - 1
    monkeypatch.setattr("layer.build.MAX_UNZIPPED_BYTES", limit)

    def no_smoke(*args: object) -> list[str]:
        raise AssertionError("unpacked a layer Lambda would not take")

    monkeypatch.setattr("layer.verify.smoke_test", no_smoke)

    assert verify(built_layer.zip_path) == [
        f"{built_layer.zip_path.name}: unpacks to {limit + 1:,} bytes, over the {limit:,} "
        "that Lambda allows a function and all its layers together"
    ]


def test_a_name_with_control_characters_stays_on_its_line(
    built_layer: BuiltLayer, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # A newline would split the problem in two; an escape sequence would reach the terminal.
    odd = regular("python/cachetools/odd\nname\x1b[2J.txt")

    def add(info: zipfile.ZipInfo, data: bytes) -> list:
        return [(info, data), (odd, b"")] if info.filename == "python/" else [(info, data)]

    zip_path = rewrite(built_layer, tmp_path, add)

    assert cli(["verify", "--no-smoke", str(zip_path)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out
    named = [line for line in out.splitlines() if "odd" in line]
    assert named == [
        f"python/cachetools/odd\\nname\\x1b[2J.txt: in the zip but not listed in "
        f"{zip_path.with_suffix('.json').name}"
    ]
    # publish refuses with the same problems, through raise_for.
    with pytest.raises(LayerError) as refused:
        odd_ones = [problem for problem in verify(zip_path, smoke=False) if "odd" in problem]
        raise_for(odd_ones, str(zip_path), "fix that")
    assert "odd\\nname\\x1b" in str(refused.value)


def test_paths_with_two_spellings_are_refused(built_layer: BuiltLayer, tmp_path: Path) -> None:
    extra = [
        (regular("python/./cachetools/keys.py"), b"raise SystemExit(3)\n"),
        (regular("python//stray.py"), b""),
    ]

    def add(info: zipfile.ZipInfo, data: bytes) -> list:
        return [(info, data), *extra] if info.filename == "python/" else [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, add, keep_manifest=False), smoke=False)

    assert problems == [
        f"{name}: '.' or an empty segment in the path; name each entry one way only"
        for name in ("python/./cachetools/keys.py", "python//stray.py")
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ["python/cachetools/__init__.py/inner.py"],
            "python/cachetools/__init__.py: a file, but "
            "python/cachetools/__init__.py/inner.py needs it to be a directory",
        ),
        (
            ["python/cachetools/func.py/"],
            "python/cachetools/func.py: a file, but python/cachetools/func.py/ needs it to be a "
            "directory",
        ),
        (
            ["python/."],
            "python/.: '.' or an empty segment in the path; name each entry one way only",
        ),
    ],
    ids=["file-under-a-file", "directory-over-a-file", "the-layer-root-as-a-file"],
)
def test_entries_that_cannot_be_unpacked_together_are_one_line_each(
    built_layer: BuiltLayer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    extra: list[str],
    expected: str,
) -> None:
    def add(info: zipfile.ZipInfo, data: bytes) -> list:
        added = [(regular(name), b"" if name.endswith("/") else b"x = 1\n") for name in extra]
        return [(info, data), *added] if info.filename == "python/" else [(info, data)]

    zip_path = rewrite(built_layer, tmp_path, add, keep_manifest=False)

    assert cli(["verify", str(zip_path)]) == 1
    output = capsys.readouterr()
    assert output.out.splitlines() == [expected]
    assert "Traceback" not in output.err


def test_every_problem_is_reported_at_once(built_layer: BuiltLayer, tmp_path: Path) -> None:
    def several(info: zipfile.ZipInfo, data: bytes) -> list:
        if info.filename.startswith("python/cached_clients/"):
            return []
        if info.filename == "python/cachetools/keys.py":
            info.external_attr = (stat.S_IFREG | 0o600) << 16
        if info.filename == "python/":
            return [(info, data), (zipfile.ZipInfo("lib/stray.py"), b"")]
        return [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, several), smoke=False)
    faults = {problem.split(": ", 1)[0] for problem in problems}

    assert {
        "python/cachetools/keys.py",
        "lib/stray.py",
        "python/cached_clients/",
        "python/cached_clients/__init__.py",
        "cached-clients-1.0.0.json",
    } <= faults


def test_a_manifest_that_disagrees_with_the_zip_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    zip_path = copy_layer(built_layer, tmp_path)
    manifest = dict(built_layer.manifest)
    manifest["files"] = [dict(item) for item in manifest["files"]]
    manifest["files"][0]["sha256"] = "0" * 64
    manifest["distributions"] = {**manifest["distributions"], "cachetools": "7.0.0"}
    manifest["compatible_runtimes"] = ["python3.10", *manifest["compatible_runtimes"]]
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))

    problems = verify(zip_path, smoke=False)

    changed = manifest["files"][0]["path"]
    assert f"{changed}: size or sha256 differs from {zip_path.stem}.json" in problems
    assert any(p.startswith(f"{zip_path.stem}.json: distributions says") for p in problems)
    assert any(p.startswith(f"{zip_path.stem}.json: claims python3.10, which is") for p in problems)


LABEL = "cached-clients-1.0.0.json"
NO_EXTENSION = "it holds no compiled extension, so it runs on both"
MISSING = object()  # a key left out of the manifest


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"compatible_architectures": ["sparc"]},
            ["compatible_architectures[0]: 'sparc' is not one of ['arm64', 'x86_64']"],
        ),
        ({"compatible_architectures": 7}, ["compatible_architectures: 7 is not of type 'array'"]),
        ({"compatible_runtimes": 5}, ["compatible_runtimes: 5 is not of type 'array'"]),
        (
            {"compatible_runtimes": "python3.11"},
            ["compatible_runtimes: 'python3.11' is not of type 'array'"],
        ),
        (
            {"compatible_runtimes": ["python3.11", "python3.99"]},
            [
                "compatible_runtimes[1]: 'python3.99' is not one of ['python3.8', 'python3.9', "
                "'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14']"
            ],
        ),
        ({"name": 5}, ["name: 5 is not of type 'string'"]),
        (
            {"name": "other-layer"},
            ["name says 'other-layer', the zip bundles no such distribution"],
        ),
        ({"version": "9.9.9"}, ["version says '9.9.9', the zip gives '1.0.0'"]),
        (
            {"distributions": ["cachetools"]},
            ["distributions: ['cachetools'] is not of type 'object'"],
        ),
        ({"unzipped_bytes": "lots"}, ["unzipped_bytes: 'lots' is not of type 'integer'"]),
        ({"files": None}, ["files: None is not of type 'array'"]),
        ({"sha256": MISSING}, ["'sha256' is a required property"]),
        ({"runtimes_as_of": "2026-13-01"}, ["runtimes_as_of: '2026-13-01' is not a 'date'"]),
        (
            {"compatible_architectures": ["x86_64"]},
            [
                "compatible_architectures says ['x86_64'], the zip implies ['arm64', 'x86_64'] "
                f"({NO_EXTENSION})"
            ],
        ),
    ],
    ids=[
        "unknown-architecture",
        "architectures-not-a-list",
        "runtimes-not-a-list",
        "runtimes-a-string",
        "unknown-runtime",
        "name-not-a-string",
        "name-not-bundled",
        "version-not-the-bundled-one",
        "distributions-not-an-object",
        "unzipped-bytes-not-a-number",
        "files-null",
        "sha256-missing",
        "runtimes-as-of-not-a-date",
        "architectures-not-what-the-zip-implies",
    ],
)
def test_a_malformed_or_wrong_manifest_is_one_line_per_fault(
    built_layer: BuiltLayer, tmp_path: Path, capsys: pytest.CaptureFixture, change, expected
) -> None:
    zip_path = copy_layer(built_layer, tmp_path)
    manifest = {**built_layer.manifest, **change}
    manifest = {key: value for key, value in manifest.items() if value is not MISSING}
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))

    assert cli(["verify", "--no-smoke", str(zip_path)]) == 1

    output = capsys.readouterr()
    assert output.out.splitlines() == [f"{LABEL}: {line}" for line in expected]
    assert "Traceback" not in output.err


def test_runtimes_are_what_the_build_would_claim_on_its_day(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    zip_path = copy_layer(built_layer, tmp_path)
    claimed = built_layer.manifest["compatible_runtimes"]
    built_on = datetime.date.fromisoformat(built_layer.manifest["runtimes_as_of"])
    assert "python3.11" in claimed and built_on < datetime.date(2027, 6, 30)

    def manifest_says(**changes: object) -> list[str]:
        zip_path.with_suffix(".json").write_text(json.dumps({**built_layer.manifest, **changes}))
        return verify(zip_path, smoke=False, today=built_on)

    assert manifest_says() == []
    assert manifest_says(compatible_runtimes=claimed[1:]) == [
        f"{LABEL}: leaves out python3.11, which the bundled distributions admit and Lambda "
        f"supports (as of {built_on})"
    ]
    assert manifest_says(runtimes_as_of="2027-06-30") == [
        f"{LABEL}: claims python3.11, which is deprecated or ruled out by the bundled "
        "distributions' Requires-Python or compiled extensions (as of 2027-06-30)"
    ]
    zip_path.with_suffix(".json").write_text(json.dumps(built_layer.manifest))
    assert verify(zip_path, smoke=False, today=datetime.date(2027, 7, 1)) == [
        f"{LABEL}: claims python3.11, deprecated since 2027-06-30; rebuild the layer"
    ]


def test_the_bytecode_key_names_the_tags_shipped(built_layer: BuiltLayer, tmp_path: Path) -> None:
    zip_path = copy_layer(built_layer, tmp_path)
    shipped = sorted(built_layer.manifest["bytecode"])
    manifest = {**built_layer.manifest, "bytecode": {"cpython-399": "3.99.0"}}
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))

    assert verify(zip_path, smoke=False) == [
        f"{LABEL}: bytecode lists ['cpython-399'], the zip ships bytecode for {shipped}"
    ]


def test_a_manifest_given_elsewhere_is_the_one_its_problems_name(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({**built_layer.manifest, "version": "9.9.9"}))

    problems = verify(built_layer.zip_path, elsewhere, smoke=False)

    assert problems == ["elsewhere.json: version says '9.9.9', the zip gives '1.0.0'"]


def test_a_missing_manifest_is_a_problem(built_layer: BuiltLayer, tmp_path: Path) -> None:
    lonely = tmp_path / built_layer.zip_path.name
    shutil.copy(built_layer.zip_path, lonely)

    problems = verify(lonely, smoke=False)

    assert problems == [
        f"{lonely.with_suffix('.json')}: no manifest for {lonely.name}; run ./build_layer.sh"
    ]


def test_a_missing_zip_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(LayerError, match=r"no such file; run \./build_layer\.sh"):
        verify(tmp_path / "absent.zip")
    assert cli(["verify", str(tmp_path / "absent.zip")]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_a_directory_or_pipe_given_as_the_zip_is_not_called_missing(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.zip"
    os.mkfifo(pipe)

    for path in (tmp_path, pipe):
        with pytest.raises(LayerError, match=r"is not a file; pass the zip that \./build_layer"):
            verify(path)


def test_bytecode_the_runtime_cannot_use_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    tag = sys.implementation.cache_tag
    dropped = f"python/cachetools/__pycache__/func.{tag}.pyc"
    timestamped = f"python/cachetools/__pycache__/keys.{tag}.pyc"

    def degrade(info: zipfile.ZipInfo, data: bytes) -> list:
        if info.filename == dropped:
            return []
        if info.filename == timestamped:
            data = data[:4] + bytes(4) + data[8:]
        return [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, degrade, keep_manifest=False))
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"

    assert any(p.startswith(f"{timestamped}: timestamp-based bytecode") for p in problems)
    assert (
        "python/cachetools/func.py: compiled from source; no bytecode was shipped for it "
        f"(on {runtime})"
    ) in problems


def test_bytecode_compiled_from_other_source_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    init = "python/cached_clients/__init__.py"

    def edit_source_only(info: zipfile.ZipInfo, data: bytes) -> list:
        if info.filename == init:
            data += b"\nraise ImportError('this source is not what the bytecode runs')\n"
        return [(info, data)]

    zip_path = rewrite(built_layer, tmp_path, edit_source_only, keep_manifest=False)
    on = f"(on {', '.join(local_runtimes(built_layer))})"

    assert verify(zip_path) == [f"{init}: bytecode was compiled from different source {on}"]


def test_an_import_that_fails_or_pulls_in_boto3_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    broken = {
        "python/cachetools/func.py": b"raise RuntimeError(f'{__file__} broken on purpose')\n",
        "python/cached_clients/__init__.py": b"import boto3\n__version__ = '1.0.0'\n",
    }

    def replace(info: zipfile.ZipInfo, data: bytes) -> list:
        if "/__pycache__/func." in info.filename or "cached_clients/__pycache__/__init__" in (
            info.filename
        ):
            return []
        return [(info, broken.get(info.filename, data))]

    problems = verify(rewrite(built_layer, tmp_path, replace, keep_manifest=False))
    on = f"(on {', '.join(local_runtimes(built_layer))})"

    assert f"import cached_clients imported boto3; the import must stay cheap {on}" in problems
    # Each runtime imports from a copy of its own: the line names the file where Lambda has it.
    assert (
        "import cachetools.func failed: RuntimeError: "
        f"/opt/python/cachetools/func.py broken on purpose {on}"
    ) in problems


def test_one_import_fault_is_one_line_naming_every_runtime(
    built_layer: BuiltLayer, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    init = "python/cached_clients/__init__.py"

    def break_init(info: zipfile.ZipInfo, data: bytes) -> list:
        if info.filename.startswith("python/cached_clients/__pycache__/__init__."):
            return []
        if info.filename == init:
            data += b"\nimport no_such_module_here\n"
        return [(info, data)]

    zip_path = rewrite(built_layer, tmp_path, break_init, keep_manifest=False)
    on = f"(on {', '.join(local_runtimes(built_layer))})"

    assert cli(["verify", str(zip_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "import cached_clients failed: ModuleNotFoundError: "
        f"No module named 'no_such_module_here' {on}",
        f"{init}: compiled from source; no bytecode was shipped for it {on}",
    ]


def test_an_extension_for_the_wrong_platform_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    aarch64 = bytearray(64)
    aarch64[:6], aarch64[18:20] = b"\x7fELF\x02\x01", (0xB7).to_bytes(2, "little")
    extension = zipfile.ZipInfo("python/cachetools/_fast.abi3.so", (1980, 1, 1, 0, 0, 0))
    extension.create_system, extension.external_attr = 3, (stat.S_IFREG | 0o644) << 16

    def add(info: zipfile.ZipInfo, data: bytes) -> list:
        extra = [(extension, bytes(aarch64))] if info.filename == "python/" else []
        return [(info, data), *extra]

    problems = verify(rewrite(built_layer, tmp_path, add), smoke=False)

    assert "python/cachetools/_fast.abi3.so: compiled for arm64, cannot load on x86_64" in problems


# Helpers


def local_runtimes(built_layer: BuiltLayer) -> list[str]:
    """The runtimes verify imports the layer on: those claimed that have a local interpreter."""
    claimed = set(built_layer.manifest["compatible_runtimes"])
    versions = [runtime.version for runtime in RUNTIMES if runtime.name in claimed]
    return [interpreter.runtime_name for interpreter in discover(versions)]


def copy_layer(built_layer: BuiltLayer, directory: Path) -> Path:
    """The built zip and its manifest, copied where a test may damage them."""
    zip_path = directory / built_layer.zip_path.name
    shutil.copy(built_layer.zip_path, zip_path)
    shutil.copy(built_layer.manifest_path, zip_path.with_suffix(".json"))
    return zip_path


def rewrite(
    built_layer: BuiltLayer, directory: Path, transform: Transform, *, keep_manifest: bool = True
) -> Path:
    """A copy of the built zip with each entry passed through ``transform``."""
    target = directory / built_layer.zip_path.name
    with zipfile.ZipFile(built_layer.zip_path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            for new_info, data in transform(info, source.read(info)):
                out.writestr(new_info, data)

    if keep_manifest:
        shutil.copy(built_layer.manifest_path, target.with_suffix(".json"))
    else:
        rebuild_manifest(built_layer, target)
    return target


def rebuild_manifest(built_layer: BuiltLayer, zip_path: Path) -> None:
    """A manifest that matches ``zip_path``, so only the fault under test is reported."""
    from layer.manifest import file_records, zip_digests

    records = file_records(zip_path)
    manifest = {
        **built_layer.manifest,
        **zip_digests(zip_path),
        "files": records,
        "unzipped_bytes": sum(record["size"] for record in records),
    }
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))


def regular(name: str) -> zipfile.ZipInfo:
    """A new entry as the build writes one: Unix mode 0644 (0755 for a directory)."""
    info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
    kind = stat.S_IFDIR | 0o755 if name.endswith("/") else stat.S_IFREG | 0o644
    info.create_system, info.external_attr = 3, kind << 16
    return info


def renamed(info: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(name, info.date_time)
    copy.create_system, copy.external_attr = info.create_system, info.external_attr
    copy.compress_type = info.compress_type
    return copy


def flip_a_byte_inside(zip_path: Path, name: str) -> None:
    """Change one byte in the middle of an entry's compressed data, leaving headers intact."""
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(name)
    data = bytearray(zip_path.read_bytes())
    name_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0xFF
    zip_path.write_bytes(bytes(data))


def flip_the_recorded_crc(zip_path: Path, name: str) -> None:
    """Change the CRC-32 that the central directory records for ``name``."""
    data = bytearray(zip_path.read_bytes())
    data[central_header(data, name) + 16] ^= 0xFF
    zip_path.write_bytes(bytes(data))


def central_header(data: bytearray, name: str) -> int:
    """Where the central directory's header for the entry ``name`` starts."""
    encoded = name.encode()
    # The name follows a 46-byte central header that starts PK\1\2 and gives its length.
    (header,) = [
        start - 46
        for start in range(len(data))
        if data.startswith(encoded, start)
        and data[start - 46 : start - 42] == b"PK\x01\x02"
        and int.from_bytes(data[start - 18 : start - 16], "little") == len(encoded)
    ]
    return header
