"""Configuration from the environment (see the README's Configuration section)."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

StorageKind = Literal["memory", "database"]
# The longest wait threading accepts: a longer interval or timeout would fail in the flusher.
_MAX_SECONDS = threading.TIMEOUT_MAX


def database_url(environ: Mapping[str, str] | None = None) -> str | None:
    """OBSERVABILITY_METRICS_DATABASE_URL, falling back to DATABASE_URL."""
    env = os.environ if environ is None else environ
    return env.get("OBSERVABILITY_METRICS_DATABASE_URL") or env.get("DATABASE_URL") or None


def read_database_url(environ: Mapping[str, str] | None = None) -> str | None:
    """OBSERVABILITY_METRICS_READ_DATABASE_URL: where reads go (a hot standby), None when unset."""
    env = os.environ if environ is None else environ
    return env.get("OBSERVABILITY_METRICS_READ_DATABASE_URL", "").strip() or None


@dataclass(frozen=True, slots=True)
class Settings:
    """What ``pgmetrics.from_env()`` builds a storage from."""

    storage: StorageKind = "memory"
    database_url: str | None = None
    # Reads only; recording always goes to database_url.
    read_database_url: str | None = None
    batch_interval: float = 5.0  # seconds (the variable is in milliseconds)
    max_keys: int = 10_000
    shutdown_timeout: float = 10.0  # seconds
    max_cells: int = 100_000
    max_batch_cells: int = 5_000
    # Connections, in seconds (keepalives_count a number of probes).
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    statement_timeout: float = 30.0
    tcp_user_timeout: float = 30.0
    keepalives_idle: float = 30.0
    keepalives_interval: float = 10.0
    keepalives_count: int = 3

    spool_dir: str | None = None
    spool_max_bytes: int = 64 * 1024 * 1024  # the variable is in megabytes


# name -> (field, default, integer, lowest, highest); seconds unless integer.
_LIMITS: dict[str, tuple[str, float, bool, float, float]] = {
    "OBSERVABILITY_METRICS_MAX_CELLS": ("max_cells", 100_000, True, 1, 2**31 - 1),
    "OBSERVABILITY_METRICS_MAX_BATCH_CELLS": ("max_batch_cells", 5_000, True, 1, 2**31 - 1),
    "OBSERVABILITY_METRICS_CONNECT_TIMEOUT": ("connect_timeout", 5.0, False, 1, 3600),
    "OBSERVABILITY_METRICS_READ_TIMEOUT": ("read_timeout", 30.0, False, 0.1, 3600),
    "OBSERVABILITY_METRICS_STATEMENT_TIMEOUT": ("statement_timeout", 30.0, False, 0.1, 86400),
    "OBSERVABILITY_METRICS_TCP_USER_TIMEOUT": ("tcp_user_timeout", 30.0, False, 0, 86400),
    "OBSERVABILITY_METRICS_KEEPALIVES_IDLE": ("keepalives_idle", 30.0, False, 1, 86400),
    "OBSERVABILITY_METRICS_KEEPALIVES_INTERVAL": ("keepalives_interval", 10.0, False, 1, 86400),
    "OBSERVABILITY_METRICS_KEEPALIVES_COUNT": ("keepalives_count", 3, True, 1, 1000),
}


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(int(raw)) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind}, got {raw[:64]!r}") from None
    except OverflowError:  # an integer too large for a float
        raise ValueError(f"{name} must be a finite number, got {raw[:64]!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {raw[:64]!r}")
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Reads the OBSERVABILITY_METRICS_* variables; ValueError naming the variable when one is
    malformed, or when the database storage has no URL."""
    env = os.environ if environ is None else environ
    storage = env.get("OBSERVABILITY_METRICS_STORAGE", "").strip().lower() or "memory"
    if storage not in ("memory", "database"):
        raise ValueError(
            "OBSERVABILITY_METRICS_STORAGE must be memory or database, "
            f"got {env['OBSERVABILITY_METRICS_STORAGE']!r}"
        )
    url = database_url(env)
    if storage == "database" and url is None:
        raise ValueError(
            "OBSERVABILITY_METRICS_DATABASE_URL (or DATABASE_URL) must be set when "
            "OBSERVABILITY_METRICS_STORAGE is database"
        )
    interval = _number(env, "OBSERVABILITY_METRICS_BATCH_INTERVAL", 5000, integer=True)
    if not 0 < interval <= _MAX_SECONDS * 1000:
        raise ValueError(
            f"OBSERVABILITY_METRICS_BATCH_INTERVAL must be > 0 and <= {_MAX_SECONDS * 1000:g} ms, "
            f"got {interval:g}"
        )
    max_keys = _number(env, "OBSERVABILITY_METRICS_MAX_KEYS", 10_000, integer=True)
    if max_keys < 1:
        raise ValueError(f"OBSERVABILITY_METRICS_MAX_KEYS must be >= 1, got {max_keys:g}")
    shutdown = _number(env, "OBSERVABILITY_METRICS_SHUTDOWN_TIMEOUT", 10.0, integer=False)
    if not 0 <= shutdown <= _MAX_SECONDS:
        raise ValueError(
            f"OBSERVABILITY_METRICS_SHUTDOWN_TIMEOUT must be >= 0 and <= {_MAX_SECONDS:g} "
            f"seconds, got {shutdown:g}"
        )
    limits: dict[str, float] = {}
    for name, (attribute, default, integer, lowest, highest) in _LIMITS.items():
        value = _number(env, name, default, integer=integer)
        if not lowest <= value <= highest:
            raise ValueError(f"{name} must be >= {lowest:g} and <= {highest:g}, got {value:g}")
        limits[attribute] = int(value) if integer else value
    spool_dir = env.get("OBSERVABILITY_METRICS_SPOOL_DIR", "").strip() or None
    if spool_dir is not None and not os.path.isabs(spool_dir):
        # Workers may run in other directories than the master that read the setting.
        raise ValueError(
            f"OBSERVABILITY_METRICS_SPOOL_DIR must be an absolute path, got {spool_dir!r}"
        )
    spool_mb = _number(env, "OBSERVABILITY_METRICS_SPOOL_MAX_MB", 64, integer=True)
    if not 1 <= spool_mb <= 1024 * 1024:
        raise ValueError(
            f"OBSERVABILITY_METRICS_SPOOL_MAX_MB must be 1 to 1048576 megabytes, got {spool_mb:g}"
        )
    return Settings(
        storage="database" if storage == "database" else "memory",
        database_url=url,
        read_database_url=read_database_url(env) if storage == "database" else None,
        batch_interval=interval / 1000,
        max_keys=int(max_keys),
        shutdown_timeout=shutdown,
        **limits,  # type: ignore[arg-type]
        spool_dir=spool_dir,
        spool_max_bytes=int(spool_mb) * 1024 * 1024,
    )


def retention_days(environ: Mapping[str, str] | None = None) -> int | None:
    """OBSERVABILITY_METRICS_RETENTION_DAYS, applied by ``pgmetrics deploy``; None when unset."""
    env = os.environ if environ is None else environ
    if not env.get("OBSERVABILITY_METRICS_RETENTION_DAYS", "").strip():
        return None
    days = _number(env, "OBSERVABILITY_METRICS_RETENTION_DAYS", 90, integer=True)
    if not 1 <= days <= 36500:
        raise ValueError(
            f"OBSERVABILITY_METRICS_RETENTION_DAYS must be 1 to 36500 days, got {days:g}"
        )
    return int(days)
