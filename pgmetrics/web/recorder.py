"""What the ASGI and WSGI middleware share: the status policy and a recording that never
breaks a response."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pgmetrics.web.templates import UNMATCHED, normalise

SuccessPolicy = Callable[[int], bool]

logger = logging.getLogger("pgmetrics.web")


def server_error_is_failure(status: int) -> bool:
    return status < 500


def _module_storage() -> Any:
    import pgmetrics

    return pgmetrics.get_storage()


class StorageRef:
    """A storage given by the caller, or the module-level one, resolved at the first request
    rather than at import: the application may configure pgmetrics after building its app."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage

    @property
    def storage(self) -> Any:
        if self._storage is None:
            self._storage = _module_storage()
        return self._storage


class RouteRecorder(StorageRef):
    def __init__(self, storage: Any, success: SuccessPolicy | None) -> None:
        super().__init__(storage)
        self.success = success or server_error_is_failure
        self.rejected = 0

    def record(self, template: str, method: str, status: int, duration_ms: float) -> None:
        try:
            route = template if template == UNMATCHED else normalise(template)
            self.storage.record_route_metric(route, method, self.success(status), duration_ms)
        except ValueError as exc:
            # A method outside the nine standard ones, or a template over 1024 characters:
            # not a metric pgmetrics can store. Counted here, logged, never raised into the app.
            self.rejected += 1
            logger.warning("pgmetrics: request not recorded: %s", exc)
