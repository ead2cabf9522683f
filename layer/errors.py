"""The one error type the CLI turns into a single line and a non-zero exit."""

__all__ = ["LayerError"]


class LayerError(Exception):
    """A failure the user can act on; its message says what went wrong and what to do next."""
