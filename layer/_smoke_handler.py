"""Run by each runtime's interpreter (-I -S -B): import the layer as Lambda would, report JSON.

Arguments: the layer's python/ directory, the runtime stand-in directory (boto3), and the
expected distributions as JSON. Prints one JSON object: problems found, and every layer file
that had to be compiled from source because no usable bytecode was shipped for it.
"""

import importlib
import importlib.machinery
import json
import pkgutil
import sys

__all__ = ["handler", "main"]


def main() -> None:
    """Set up Lambda's path, run the smoke handler once, print what happened."""
    layer, runtime, expected = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    compiled = _record_compilation()

    # Lambda puts /opt/python ahead of the runtime's own packages.
    sys.path.insert(0, layer)
    sys.path.append(runtime)

    problems = handler({"layer": layer, "distributions": expected}, None)
    report = {"problems": problems, "compiled": [path for path in compiled if layer in path]}
    print(json.dumps(report))


def handler(event: dict, context: object) -> list[str]:
    """Import the layer, call what needs no network, then import every module it holds."""
    problems = _check_import(event["layer"], event["distributions"])
    if not problems:
        problems += _check_calls()
    problems += _import_everything(event["layer"])
    return problems


def _record_compilation() -> list[str]:
    # The loader calls source_to_code only when it found no bytecode it could use.
    compiled: list[str] = []
    loader = importlib.machinery.SourceFileLoader
    original = loader.source_to_code

    def recording(self, data, path, *args, **kwargs):
        compiled.append(str(path))
        return original(self, data, path, *args, **kwargs)

    loader.source_to_code = recording
    return compiled


def _check_import(layer: str, expected: dict) -> list[str]:
    try:
        import cached_clients
        import cachetools
    except Exception as error:
        return [f"import failed: {type(error).__name__}: {error}"]

    problems = []
    for module in (cached_clients, cachetools):
        if not str(module.__file__).startswith(layer):
            problems.append(f"{module.__name__} came from {module.__file__}, not the layer")
    if "boto3" in sys.modules or "botocore" in sys.modules:
        problems.append("import cached_clients imported boto3; the import must stay cheap")
    for module, name in ((cached_clients, "cached-clients"), (cachetools, "cachetools")):
        version = getattr(module, "__version__", None)
        if name in expected and version != expected[name]:
            problems.append(f"{module.__name__}.__version__ is {version!r}, not {expected[name]}")
    return problems


def _check_calls() -> list[str]:
    import cached_clients

    try:
        cached_clients.clear()
        stats = cached_clients.stats()
    except Exception as error:
        return [f"cached_clients.stats()/clear() failed: {type(error).__name__}: {error}"]

    problems = []
    for cache in ("sts", "dynamodb"):
        counters = stats.get(cache) if isinstance(stats, dict) else None
        if not isinstance(counters, dict) or counters.get("entries") != 0:
            problems.append(f"cached_clients.stats()[{cache!r}] after clear() is {counters!r}")
    return problems


def _import_everything(layer: str) -> list[str]:
    problems = []

    def failed(name: str) -> None:
        problems.append(f"import {name} failed: {sys.exc_info()[1]!r}")

    for module in pkgutil.walk_packages([layer], onerror=failed):
        try:
            importlib.import_module(module.name)
        except Exception as error:
            problems.append(f"import {module.name} failed: {type(error).__name__}: {error}")
    return problems


if __name__ == "__main__":
    main()
