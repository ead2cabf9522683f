"""``build_layer.sh build``: contents, manifest, bytecode, reproducibility, limits, platforms."""

import base64
import datetime
import hashlib
import json
import logging
import marshal
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, BuiltLayer

from layer.build import main
from layer.errors import LayerError
from layer.interpreters import discover
from layer.runtimes import RUNTIMES
from layer.unpack import read_only_opt

pytestmark = pytest.mark.layer

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CACHETOOLS_PIN = re.search(
    r"^cachetools==(\S+)", (ROOT / "layer/requirements.txt").read_text(), re.M
)
ELF_X86_64, ELF_AARCH64 = 0x3E, 0xB7


def local_interpreters(manifest: dict) -> list:
    """The local interpreters among the manifest's runtimes (what the build compiles for)."""
    runtimes = set(manifest["compatible_runtimes"])
    return discover(runtime.version for runtime in RUNTIMES if runtime.name in runtimes)


def test_manifest_describes_the_zip(built_layer: BuiltLayer) -> None:
    manifest, zip_path = built_layer.manifest, built_layer.zip_path
    digest = hashlib.sha256(zip_path.read_bytes()).digest()

    assert zip_path.name == f"cached-clients-{PROJECT['version']}.zip"
    assert manifest["name"] == "cached-clients"
    assert manifest["version"] == PROJECT["version"]
    assert manifest["zip"] == zip_path.name
    assert manifest["license"] == "MIT"
    assert manifest["distributions"] == {
        "cached-clients": PROJECT["version"],
        "cachetools": CACHETOOLS_PIN[1],
    }
    assert manifest["zip_bytes"] == zip_path.stat().st_size
    assert manifest["sha256"] == digest.hex()
    assert manifest["code_sha256"] == base64.b64encode(digest).decode()

    with zipfile.ZipFile(zip_path) as archive:
        files = [info for info in archive.infolist() if not info.is_dir()]
        expected = [
            {"path": i.filename, "size": i.file_size, "sha256": sha256(archive.read(i))}
            for i in files
        ]
    assert manifest["files"] == expected
    assert manifest["unzipped_bytes"] == sum(info.file_size for info in files)


def test_pure_layer_claims_both_architectures_and_every_supported_runtime(
    built_layer: BuiltLayer,
) -> None:
    today = datetime.datetime.now(datetime.UTC).date()
    supported = [r.name for r in RUNTIMES if r.version >= (3, 11) and r.supported_on(today)]

    assert built_layer.manifest["compatible_architectures"] == ["arm64", "x86_64"]
    assert built_layer.manifest["compatible_runtimes"] == supported
    assert built_layer.manifest["runtimes_as_of"] == today.isoformat()


def test_the_zip_stays_within_its_size_budget(built_layer: BuiltLayer) -> None:
    with zipfile.ZipFile(built_layer.zip_path) as archive:
        infos = archive.infolist()
    sources = sum(info.compress_size for info in infos if not info.filename.endswith(".pyc"))

    assert sources < 128_000, "the compressed sources outgrew 128 KB"
    assert built_layer.zip_path.stat().st_size < 512_000, "the zip outgrew 512 KB"


def test_entries_are_sorted_stamped_and_moded_alike(built_layer: BuiltLayer) -> None:
    with zipfile.ZipFile(built_layer.zip_path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]

    assert names == sorted(names)
    assert all(name.startswith("python/") for name in names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    for info in infos:
        mode = info.external_attr >> 16
        assert info.create_system == 3, info.filename
        if info.is_dir():
            assert mode == stat.S_IFDIR | 0o755, info.filename
        else:
            assert mode == stat.S_IFREG | 0o644, info.filename

    # Every directory is an entry of its own, so unpacking never invents a mode.
    parents = {name.rsplit("/", 1)[0] + "/" for name in names if not name.endswith("/")}
    assert parents <= set(names)


def test_leaves_out_what_a_layer_must_not_ship(built_layer: BuiltLayer) -> None:
    with zipfile.ZipFile(built_layer.zip_path) as archive:
        names = archive.namelist()
        records = {name: archive.read(name).decode() for name in names if name.endswith("/RECORD")}

    for name in names:
        parts = name.rstrip("/").split("/")
        assert "tests" not in parts and "bin" not in parts[:2], name
        assert parts[-1] not in {"direct_url.json", "INSTALLER", "REQUESTED"}, name
    assert not any(name.endswith(".pyc") and "/__pycache__/" not in name for name in names)

    # RECORD still lists exactly files that ship, so importlib.metadata stays truthful.
    for record in records.values():
        for row in record.splitlines():
            assert f"python/{row.split(',')[0]}" in names, row


def test_bytecode_is_unchecked_hash_for_every_local_runtime_and_names_opt(
    built_layer: BuiltLayer,
) -> None:
    interpreters = local_interpreters(built_layer.manifest)
    tags = {interpreter.cache_tag for interpreter in interpreters}
    with zipfile.ZipFile(built_layer.zip_path) as archive:
        names = set(archive.namelist())
        sources = [name for name in names if name.endswith(".py")]
        pycs = {name: archive.read(name) for name in names if name.endswith(".pyc")}

    assert tags and sys.implementation.cache_tag in tags
    assert built_layer.manifest["bytecode"] == {i.cache_tag: i.full_version for i in interpreters}
    expected = {
        f"{directory}/__pycache__/{module[:-3]}.{tag}.pyc"
        for directory, module in (source.rsplit("/", 1) for source in sources)
        for tag in tags
    }
    assert set(pycs) == expected
    for name, data in pycs.items():
        assert int.from_bytes(data[4:8], "little") == 0b01, f"{name} is not unchecked-hash"

    own = {n: d for n, d in pycs.items() if n.endswith(f".{sys.implementation.cache_tag}.pyc")}
    for name, data in own.items():
        source = re.sub(r"__pycache__/(\w+)\.[^/]+\.pyc$", r"\1.py", name)
        assert marshal.loads(data[16:]).co_filename == f"/opt/{source}"


@pytest.mark.parametrize("version", [r.version for r in RUNTIMES if r.version >= (3, 11)])
def test_import_from_the_read_only_layer_compiles_no_source(
    built_layer: BuiltLayer, version: tuple[int, int]
) -> None:
    found = discover([version])
    if not found:
        pytest.skip(f"no local Python {version[0]}.{version[1]}")

    with read_only_opt(built_layer.zip_path) as opt:
        layer = opt / "python"
        modules = [
            p.relative_to(layer).with_suffix("").as_posix().replace("/", ".")
            for p in layer.rglob("*.py")
        ]
        imports = "; ".join(f"import {m.removesuffix('.__init__')}" for m in modules)
        code = f"import sys; sys.path.insert(0, {str(layer)!r}); {imports}"
        result = subprocess.run(
            [str(found[0].path), "-I", "-S", "-B", "-v", "-c", code],
            capture_output=True,
            text=True,
            check=True,
        )

    loads = [line for line in result.stderr.splitlines() if line.startswith("# code object from")]
    from_layer = [line for line in loads if str(layer) in line]
    assert len(from_layer) == len(modules), result.stderr[-2000:]
    assert all(line.endswith(".pyc'") for line in from_layer), from_layer


def test_two_clean_copies_build_the_same_bytes(tmp_path: Path) -> None:
    epoch = 1_700_000_000
    # The second copy's guide differs: documentation must not change the layer's bytes.
    zips = [
        build_in_clean_copy(tmp_path / "one", epoch),
        build_in_clean_copy(tmp_path / "two", epoch, readme_extra="\nAn edited guide.\n"),
    ]

    assert zips[0].read_bytes() == zips[1].read_bytes()
    assert zips[0].with_suffix(".json").read_text() == zips[1].with_suffix(".json").read_text()
    with zipfile.ZipFile(zips[0]) as archive:
        stamps = {info.date_time for info in archive.infolist()}
    assert stamps == {datetime.datetime.fromtimestamp(epoch, datetime.UTC).timetuple()[:6]}


def test_a_checkout_ships_what_git_tracks_and_an_archive_what_it_holds(tmp_path: Path) -> None:
    copy = tmp_path / "checkout"
    copy_checkout(copy)
    git = ["git", "-C", str(copy), "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "sources"], check=True)
    scratch = "python/cached_clients/scratch.py"
    (copy / scratch).write_text("print('not for the layer')\n")
    edited = copy / "python/cached_clients/__init__.py"
    edited.write_text(edited.read_text() + "# edited, not committed\n")

    in_git = build_copy(copy)
    shutil.rmtree(copy / ".git")
    as_archive = build_copy(copy)

    assert scratch not in in_git.entries
    assert f"left out {scratch}: git does not track it" in in_git.stderr
    assert in_git.entries["python/cached_clients/__init__.py"].endswith(
        b"# edited, not committed\n"
    )
    assert scratch in as_archive.entries
    assert "git does not track" not in as_archive.stderr


def test_unzipped_size_over_the_limit_fails_before_any_output(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"unzipped, over the limit of 1,000"):
        main(["--output-dir", str(tmp_path), "--max-unzipped-bytes", "1000"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("output_dir", "fault"),
    [("a-file", "is a file"), ("a-file/dist", "a part of that path is a file")],
)
def test_an_output_dir_that_cannot_be_a_directory_fails_before_staging(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, output_dir: str, fault: str
) -> None:
    (tmp_path / "a-file").write_text("kept\n")
    target = tmp_path / output_dir

    caplog.set_level(logging.INFO)
    with pytest.raises(LayerError, match=f"^--output-dir {re.escape(str(target))}: {fault}; "):
        main(["--output-dir", str(target)])

    assert caplog.records == [], "the build started before checking its output directory"
    assert (tmp_path / "a-file").read_text() == "kept\n"


def test_a_bad_output_dir_is_one_line_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from layer.cli import main as cli

    (tmp_path / "a-file").touch()
    assert cli(["build", "--output-dir", str(tmp_path / "a-file")]) == 1
    assert capsys.readouterr().err == (
        f"build_layer.sh build: error: --output-dir {tmp_path / 'a-file'}: is a file; "
        "give a directory\n"
    )


def test_an_output_that_cannot_be_written_is_one_line_and_leaves_nothing_half_done(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from layer.cli import main as cli

    in_the_way = tmp_path / f"cached-clients-{PROJECT['version']}.zip"
    in_the_way.mkdir()

    assert cli(["build", "--output-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"build_layer.sh build: error: {in_the_way}: cannot write it (Is a directory); "
        "move what is in the way, or give another --output-dir"
    )
    assert list(tmp_path.iterdir()) == [in_the_way]


def test_missing_output_dirs_are_made_and_removed_again_if_the_build_fails(
    tmp_path: Path,
) -> None:
    with pytest.raises(LayerError, match="no Lambda Python runtime is supported"):
        main(["--output-dir", str(tmp_path / "new" / "dist"), "--today", "2030-01-01"])

    assert list(tmp_path.iterdir()) == []


def test_moving_today_past_a_deprecation_drops_that_runtime(tmp_path: Path) -> None:
    assert main(["--output-dir", str(tmp_path), "--today", "2027-06-30"]) == 0

    manifest = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert manifest["compatible_runtimes"] == ["python3.12", "python3.13", "python3.14"]
    assert manifest["runtimes_as_of"] == "2027-06-30"
    assert manifest["installed_for"]["python_version"] == "3.12"
    assert "cpython-311" not in manifest["bytecode"]


def test_interpreters_restricts_the_bytecode_to_those_named(tmp_path: Path) -> None:
    from layer.verify import verify

    assert main(["--output-dir", str(tmp_path), "--interpreters", "3.11"]) == 0

    (zip_path,) = tmp_path.glob("*.zip")
    manifest = json.loads(zip_path.with_suffix(".json").read_text())
    with zipfile.ZipFile(zip_path) as archive:
        tags = {name.rsplit(".", 2)[1] for name in archive.namelist() if name.endswith(".pyc")}
    assert list(manifest["bytecode"]) == ["cpython-311"]
    assert tags == {"cpython-311"}
    assert manifest["compatible_runtimes"][0] == "python3.11"
    assert verify(zip_path) == []


@pytest.mark.parametrize(
    ("versions", "fault"),
    [
        ("3.10", "--interpreters 3.10: not among the compatible runtimes (python3.11, "),
        ("3.99", "--interpreters 3.99: not among the compatible runtimes"),
    ],
)
def test_interpreters_outside_the_runtimes_fail(tmp_path: Path, versions: str, fault: str) -> None:
    with pytest.raises(LayerError, match=re.escape(fault)):
        main(["--output-dir", str(tmp_path), "--interpreters", versions])
    assert list(tmp_path.iterdir()) == []


def test_interpreters_without_a_local_one_fail(tmp_path: Path) -> None:
    if discover([(3, 14)]):
        pytest.skip("this machine has a Python 3.14")
    with pytest.raises(LayerError, match=r"--interpreters 3\.14: no local interpreter found"):
        main(["--output-dir", str(tmp_path), "--interpreters", "3.11,3.14"])


def test_interpreters_must_be_versions(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--output-dir", str(tmp_path), "--interpreters", "3.11,latest"])
    assert "'latest' is not a Python version such as 3.12" in capsys.readouterr().err


def test_a_malformed_source_date_epoch_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(LayerError, match="SOURCE_DATE_EPOCH='yesterday' is not whole seconds"):
        main(["--output-dir", str(tmp_path)])


def test_no_supported_runtime_left_fails(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="no Lambda Python runtime is supported on 2029-06-30"):
        main(["--output-dir", str(tmp_path), "--today", "2029-06-30"])


def test_pure_extra_narrows_runtimes_drops_tests_and_warns_on_size(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wheel = make_wheel(
        tmp_path,
        "ccdemo_pure",
        "py3-none-any",
        {
            "ccdemo_pure/__init__.py": b"VALUE = 1\n",
            "ccdemo_pure/tests/test_value.py": b"def test_value(): pass\n",
        },
        requires_python=">=3.11,<3.13",
    )
    requirements = write_requirements(tmp_path, [wheel])

    caplog.set_level(logging.WARNING)
    arguments = ["--output-dir", str(tmp_path / "out"), "--requirements", str(requirements)]
    assert main([*arguments, "--warn-zip-bytes", "1000"]) == 0

    manifest = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    names = [record["path"] for record in manifest["files"]]
    assert manifest["distributions"]["ccdemo-pure"] == "1.0"
    assert manifest["compatible_runtimes"] == ["python3.11", "python3.12"]
    assert manifest["compatible_architectures"] == ["arm64", "x86_64"]
    assert "python/ccdemo_pure/__init__.py" in names
    assert not any("/tests/" in name for name in names)
    assert not any(name.endswith(".cpython-313.pyc") for name in names)
    assert any("through S3" in record.getMessage() for record in caplog.records)


def test_extension_for_the_target_ties_the_layer_to_it(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        "ccdemo_ext",
        "cp311-cp311-manylinux2014_x86_64",
        {"ccdemo_ext/_speed.cpython-311-x86_64-linux-gnu.so": elf_header(ELF_X86_64)},
    )
    requirements = write_requirements(tmp_path, [wheel])

    arguments = ["--output-dir", str(tmp_path / "out"), "--requirements", str(requirements)]
    assert main(arguments) == 0

    manifest = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert manifest["compatible_architectures"] == ["x86_64"]
    assert manifest["compatible_runtimes"] == ["python3.11"]


def test_wheels_are_chosen_for_lambdas_platform_not_this_machines(tmp_path: Path) -> None:
    # pip refuses an aarch64 wheel on this x86_64 machine unless told the target platform.
    wheel = make_wheel(
        tmp_path,
        "ccdemo_arm",
        "cp311-cp311-manylinux2014_aarch64",
        {"ccdemo_arm/_speed.cpython-311-aarch64-linux-gnu.so": elf_header(ELF_AARCH64)},
    )
    requirements = write_requirements(tmp_path, [wheel])

    arguments = ["--output-dir", str(tmp_path / "out"), "--requirements", str(requirements)]
    assert main([*arguments, "--architecture", "arm64"]) == 0

    manifest = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert manifest["distributions"]["ccdemo-arm"] == "1.0"
    assert manifest["installed_for"]["platform"] == "manylinux2014_aarch64"
    assert manifest["compatible_architectures"] == ["arm64"]


def test_extension_for_another_platform_fails(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        "ccdemo_ext",
        "cp311-cp311-manylinux2014_x86_64",
        {"ccdemo_ext/_speed.cpython-311-x86_64-linux-gnu.so": elf_header(ELF_AARCH64)},
    )
    requirements = write_requirements(tmp_path, [wheel])

    arguments = ["--output-dir", str(tmp_path / "out"), "--requirements", str(requirements)]
    with pytest.raises(LayerError, match=r"_speed\.cpython-311.*compiled for arm64.*x86_64"):
        main(arguments)
    assert not (tmp_path / "out").exists()


def test_cli_prints_the_zip_path_and_reports_failures_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from layer.cli import main as cli

    assert cli(["build", "--output-dir", str(tmp_path), "--today", "2030-01-01"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines()[-1].startswith("build_layer.sh build: error: no Lambda")


# Helpers


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_in_clean_copy(copy: Path, epoch: int, readme_extra: str = "") -> Path:
    """Copy the checkout's files (tracked or new, not ignored) and run ./build_layer.sh there."""
    copy_checkout(copy)
    with (copy / "README.md").open("a") as readme:
        readme.write(readme_extra)
    return build_copy(copy, {"SOURCE_DATE_EPOCH": str(epoch)}).zip_path


def copy_checkout(copy: Path) -> None:
    """The checkout's files (tracked or new, not ignored), without its git history."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)


class CopyBuild:
    """What ./build_layer.sh build did in a copy: the zip, its entries, its stderr."""

    def __init__(self, zip_path: Path, stderr: str) -> None:
        self.zip_path = zip_path
        self.stderr = stderr
        with zipfile.ZipFile(zip_path) as archive:
            self.entries = {info.filename: archive.read(info) for info in archive.infolist()}


def build_copy(copy: Path, env: dict[str, str] | None = None) -> CopyBuild:
    """Run ./build_layer.sh build in ``copy``, on this checkout's venv."""
    # The venv is the same pinned toolchain either way; sharing it keeps the test fast.
    if not (copy / ".venv").is_symlink():
        (copy / ".venv").symlink_to(ROOT / ".venv")

    result = subprocess.run(
        ["./build_layer.sh", "build"],
        cwd=copy,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    zip_path = Path(result.stdout.strip())
    assert zip_path == copy / "dist" / f"cached-clients-{PROJECT['version']}.zip"
    return CopyBuild(zip_path, result.stderr)


def elf_header(machine: int) -> bytes:
    """The first bytes of a little-endian 64-bit ELF shared object for ``machine``."""
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    header[16:18] = (3).to_bytes(2, "little")  # ET_DYN
    header[18:20] = machine.to_bytes(2, "little")
    return bytes(header)


def make_wheel(
    directory: Path, name: str, tag: str, files: dict[str, bytes], requires_python: str = ""
) -> Path:
    """A minimal valid wheel holding ``files``."""
    dist_info = f"{name}-1.0.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    pure = "true" if tag.endswith("-none-any") else "false"
    contents = {
        **files,
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {pure}\nTag: {tag}\n"
        ).encode(),
    }
    record = [
        f"{path},sha256={urlsafe_digest(data)},{len(data)}" for path, data in contents.items()
    ]
    contents[f"{dist_info}/RECORD"] = (
        "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    ).encode()

    wheel = directory / f"{name}-1.0-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
    return wheel


def urlsafe_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def write_requirements(directory: Path, wheels: list[Path]) -> Path:
    """layer/requirements.txt plus each local wheel, pinned by its hash."""
    lines = [(ROOT / "layer/requirements.txt").read_text()]
    lines += [f"{wheel.as_uri()} --hash=sha256:{sha256(wheel.read_bytes())}" for wheel in wheels]
    requirements = directory / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n")
    return requirements
