"""Web integration: middleware recording route metrics, and the admin endpoint."""

from pgmetrics.web.admin_asgi import AdminServer, MetricsAdminApp
from pgmetrics.web.asgi import MetricsMiddleware
from pgmetrics.web.templates import UNMATCHED
from pgmetrics.web.wsgi import WSGIMetricsMiddleware

__all__ = [
    "UNMATCHED",
    "AdminServer",
    "MetricsAdminApp",
    "MetricsMiddleware",
    "WSGIMetricsMiddleware",
]
