"""First call in a fresh process: import plus the first get_item, against moto's server."""

import contextlib
import sys
from pathlib import Path

from bench import _env, _item, _layer
from bench._ours import missing
from bench._timing import Settings, fresh_processes
from bench.report import Figure, Goal, Row

__all__ = ["run"]

CHILD = Path(__file__).with_name("_cold_child.py")
INDEX = 7
OURS = "ours: import cached_clients; get_item"
SEED = "seed: import boto3; resource().Table().get_item"


def _prepare(url: str) -> None:
    import boto3

    resource = boto3.resource("dynamodb", endpoint_url=url)
    _item.create_table(resource).put_item(Item=_item.item(INDEX))


def _layer_python(stack: contextlib.ExitStack) -> tuple[list[str], str]:
    """The unpacked layer's python/ directory as the child's extra argument, and a note.

    Users import the layer from /opt/python with the bytecode it ships; the seed's boto3 and
    cachetools come with theirs from pip. Importing ours from this checkout's sources would
    charge ours alone for compiling them wherever bytecode is not written (-B, or
    PYTHONDONTWRITEBYTECODE), so ours is imported as Lambda imports it.
    """
    reason = _layer.missing()
    if reason:
        return [], f"ours imported from this checkout's sources ({reason})"
    from layer.unpack import read_only_opt

    opt = stack.enter_context(read_only_opt(_layer.first_build().zip_path))
    return [str(opt / "python")], "ours imported from the layer zip unpacked read-only like /opt"


def run(settings: Settings) -> list[Figure]:
    """Fresh subprocesses, ours and the seed taking turns, each timing itself."""
    reason = missing("get_item")
    key_value = _item.key(INDEX)[_item.KEY_ATTRIBUTE]
    # -B on both sides: each imports with the bytecode it was installed with, and writes none.
    child = [sys.executable, "-B", str(CHILD)]
    arguments = [_item.TABLE, _item.KEY_ATTRIBUTE, key_value]

    with contextlib.ExitStack() as stack:
        layer, where = _layer_python(stack) if not reason else ([], "")
        sides = {SEED: [*child, "seed", *arguments]}
        if not reason:
            sides = {OURS: [*child, "ours", *arguments, *layer], **sides}
        url = stack.enter_context(_env.moto_server())
        _prepare(url)
        environment = _env.child_environment(AWS_ENDPOINT_URL_DYNAMODB=url)
        samples = fresh_processes(sides, settings.processes, float, env=environment)

    rows = [Row(name, [seconds * 1000 for seconds in values]) for name, values in samples.items()]
    ours = rows[0] if not reason else None
    seed = Row(rows[-1].side, rows[-1].samples, Goal.ratio_at_most(0.8))
    note = (
        f"{settings.processes} fresh processes per side, taking turns after one discarded "
        "warm-up each; each child times its imports and first GetItem over HTTP to moto's "
        "server on 127.0.0.1 (interpreter start-up, the same for both, is left out)"
    )
    if reason:
        note += f"; ours not measured: {reason}"
    else:
        note += f"; {where}, with its bytecode, the seed from the bench venv with pip's"
    return [Figure("first call in a fresh process", "ms", ours, [seed], note=note)]
