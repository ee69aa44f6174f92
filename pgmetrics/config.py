"""Configuration from the environment (see the README's Configuration section)."""

from __future__ import annotations

import os
from collections.abc import Mapping


def database_url(environ: Mapping[str, str] | None = None) -> str | None:
    """OBSERVABILITY_METRICS_DATABASE_URL, falling back to DATABASE_URL."""
    env = os.environ if environ is None else environ
    return env.get("OBSERVABILITY_METRICS_DATABASE_URL") or env.get("DATABASE_URL") or None
