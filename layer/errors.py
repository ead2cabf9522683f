"""The one error type the CLI turns into a single line and a non-zero exit."""

import logging
import re
from collections.abc import Sequence

__all__ = ["LayerError", "printable", "raise_for"]

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class LayerError(Exception):
    """A failure the user can act on; its message says what went wrong and what to do next."""


def raise_for(problems: Sequence[str], subject: str, advice: str) -> None:
    """Refuse ``subject`` if there are problems: one in the error itself, more on lines above."""
    problems = [printable(problem) for problem in problems]
    if len(problems) == 1:
        raise LayerError(f"{subject}: {problems[0]}; {advice}")
    if problems:
        for problem in problems:
            logger.error("%s", problem)
        raise LayerError(f"{subject}: {len(problems)} problems, each on a line above; {advice}")


def printable(text: str) -> str:
    """The text with each control character (a newline, an escape) written as its escape, so
    that an entry name taken from a zip keeps its problem on one line and cannot steer the
    terminal."""
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], text)
