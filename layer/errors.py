"""The one error type the CLI turns into a single line and a non-zero exit."""

import logging
from collections.abc import Sequence

__all__ = ["LayerError", "raise_for"]

logger = logging.getLogger(__name__)


class LayerError(Exception):
    """A failure the user can act on; its message says what went wrong and what to do next."""


def raise_for(problems: Sequence[str], subject: str, advice: str) -> None:
    """Refuse ``subject`` if there are problems: one in the error itself, more on lines above."""
    if len(problems) == 1:
        raise LayerError(f"{subject}: {problems[0]}; {advice}")
    if problems:
        for problem in problems:
            logger.error("%s", problem)
        raise LayerError(f"{subject}: {len(problems)} problems, each on a line above; {advice}")
