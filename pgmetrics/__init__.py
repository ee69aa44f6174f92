"""Persistent route and operation metrics in PostgreSQL."""

__version__ = "0.1.0"
