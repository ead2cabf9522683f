"""Benchmarks of cached_clients beside its peers; ``python -m bench`` prints the table."""

__all__: list[str] = []
