"""What the ASGI and WSGI middleware share: the status policy and a recording that never
breaks a response."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pgmetrics.api import StorageRef, check_environment
from pgmetrics.checks import METHODS, OTHER_METHOD
from pgmetrics.storage import MetricsStorage
from pgmetrics.web.templates import UNMATCHED, normalise

SuccessPolicy = Callable[[int], bool]

logger = logging.getLogger("pgmetrics.web")

# A scan sends thousands of requests a second: one warning a minute says as much as one each.
WARNING_INTERVAL = 60.0


def succeeds_unless_server_error(status: int) -> bool:
    """The default success policy: a response succeeds unless its status is 500 or above."""
    return status < 500


class RouteRecorder:
    """Records one request into the caller's storage or the module-level one. Without a
    storage, a malformed OBSERVABILITY_METRICS_* variable raises here, as the app is built."""

    def __init__(self, storage: MetricsStorage | None, success: SuccessPolicy | None) -> None:
        if storage is None:
            check_environment()
        self._storage = StorageRef(storage)
        self.success = success or succeeds_unless_server_error
        self.rejected = 0
        self._warned = 0  # self.rejected at the last warning
        self._next_warning = 0.0
        self._warning_lock = threading.Lock()

    @property
    def storage(self) -> MetricsStorage:
        return self._storage.storage

    def record(self, template: str, method: str, status: int, duration_ms: float) -> None:
        if method not in METHODS:
            # Methods are any token a client sends: the standard ones keep their own keys, the
            # rest share one, so that a scan cannot make a key per invented method.
            upper = method.upper()
            method = upper if upper in METHODS else OTHER_METHOD
        try:
            route = template if template == UNMATCHED else normalise(template)
            self.storage.record_route_metric(route, method, self.success(status), duration_ms)
        except ValueError as exc:
            # A template over MAX_NAME_LENGTH characters: not a metric pgmetrics can store.
            # Counted, logged (at most once a minute), never raised.
            self._reject(exc)

    def _reject(self, exc: ValueError) -> None:
        with self._warning_lock:
            self.rejected += 1
            now = time.monotonic()
            if now < self._next_warning:
                return
            self._next_warning = now + WARNING_INTERVAL
            since, self._warned = self.rejected - self._warned, self.rejected
        logger.warning(
            "pgmetrics: request not recorded: %s (%d not recorded since the last warning, %d in "
            "all; this warning at most once a minute)",
            exc,
            since,
            self.rejected,
        )
