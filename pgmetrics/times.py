"""Time helpers: seconds and hours since the epoch as datetimes, the widest range a read covers,
and the ISO-8601 timestamps of the admin endpoint and the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# A read without a time range reads everything: the widest range timestamptz and datetime share,
# less a day at each end so that its bounds convert to any time zone.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def from_timestamp(t: float) -> datetime:
    """The UTC datetime of ``t`` seconds since the epoch, to the microsecond."""
    return EPOCH + timedelta(seconds=t)


def hour_start(hour: int) -> datetime:
    """The start of the UTC hour numbered ``hour`` since the epoch."""
    return EPOCH + timedelta(hours=hour)


def parse_timestamp(name: str, text: str) -> datetime:
    """The ISO-8601 timestamp ``text``, else ValueError naming ``name``. A timestamp without an
    offset is read as UTC, the zone every bucket is stored in."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be an ISO-8601 timestamp, got {text[:64]!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def floor_hour(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``: metrics are stored per UTC hour, and a range
    starting inside an hour reads that hour whole."""
    utc = moment.astimezone(UTC)
    return utc.replace(minute=0, second=0, microsecond=0)
