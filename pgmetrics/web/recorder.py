"""What the ASGI and WSGI middleware share: the status policy and a recording that never
breaks a response."""

from __future__ import annotations

import logging
from collections.abc import Callable

from pgmetrics.api import StorageRef, check_environment
from pgmetrics.storage import MetricsStorage
from pgmetrics.web.templates import UNMATCHED, normalise

SuccessPolicy = Callable[[int], bool]

logger = logging.getLogger("pgmetrics.web")


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

    @property
    def storage(self) -> MetricsStorage:
        return self._storage.storage

    def record(self, template: str, method: str, status: int, duration_ms: float) -> None:
        try:
            route = template if template == UNMATCHED else normalise(template)
            self.storage.record_route_metric(route, method, self.success(status), duration_ms)
        except ValueError as exc:
            # A method outside the nine standard ones, or a template over MAX_NAME_LENGTH
            # characters: not a metric pgmetrics can store. Counted, logged, never raised.
            self.rejected += 1
            logger.warning("pgmetrics: request not recorded: %s", exc)
