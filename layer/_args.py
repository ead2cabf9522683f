"""The commands' argument parser: a usage error is one line, like every other failure."""

import argparse
from typing import NoReturn

__all__ = ["Parser"]


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line that points at ``--help``."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE; run ./PROG --help`` on stderr and exit 2."""
        self.exit(2, f"{self.prog}: error: {message}; run ./{self.prog} --help\n")
