"""Dispatch ``python -m layer COMMAND [ARGS]`` to the command's module."""

import importlib
import logging
import sys

from layer.errors import LayerError

__all__ = ["main"]

COMMANDS = {
    "build": "layer.build",
    "verify": "layer.verify",
    "publish": "layer.publish",
    "attach": "layer.attach",
}

USAGE = "usage: build_layer.sh {" + ",".join(COMMANDS) + "} [--help] [ARGS...]"


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code; errors become one line on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0 if args else 2

    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"build_layer.sh: unknown command {command!r}; {USAGE}", file=sys.stderr)
        return 2

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    module = importlib.import_module(COMMANDS[command])
    try:
        return module.main(rest)
    except LayerError as error:
        print(f"build_layer.sh {command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"build_layer.sh {command}: interrupted", file=sys.stderr)
        return 130
