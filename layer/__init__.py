"""Tooling for the cached-clients layer: build, verify, publish and attach (never shipped)."""
