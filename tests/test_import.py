"""import cached_clients: cheap, boto3 left alone, the public names and the version in place."""

import importlib.resources
import logging
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PUBLIC = {
    "Credentials",
    "__version__",
    "assume_role",
    "clear",
    "client",
    "get_item",
    "role_session",
    "stats",
}


def _run(code: str) -> str:
    finished = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return finished.stdout.strip()


def test_import_leaves_boto3_and_botocore_out_of_sys_modules():
    loaded = _run(
        "import sys, cached_clients; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in "
        "{'boto3', 'botocore', 'dateutil', 'urllib3', 'importlib_metadata'}))"
    )

    assert loaded == "[]"


def test_import_does_not_read_the_version_until_asked():
    assert _run("import sys, cached_clients; print('importlib.metadata' in sys.modules)") == (
        "False"
    )


def test_the_public_names_are_exactly_the_contracts():
    import cached_clients

    assert set(cached_clients.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(cached_clients, name) is not None


def test_version_is_the_distributions_from_pyproject():
    import cached_clients

    with (ROOT / "pyproject.toml").open("rb") as pyproject:
        declared = tomllib.load(pyproject)["project"]["version"]

    assert cached_clients.__version__ == declared


def test_an_unknown_attribute_is_an_attribute_error():
    import cached_clients

    assert not hasattr(cached_clients, "no_such_name")


def test_the_logger_has_a_null_handler_and_the_package_is_typed():
    import cached_clients

    handlers = logging.getLogger("cached_clients").handlers
    assert any(isinstance(handler, logging.NullHandler) for handler in handlers)
    assert importlib.resources.files(cached_clients).joinpath("py.typed").is_file()
