"""A malformed OBSERVABILITY_METRICS_* variable stops the start, naming the variable: when the
app is built or a function decorated, not at each request or call later."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

import pgmetrics
from pgmetrics import MemoryMetricsStorage
from pgmetrics.api import configure
from tests.real_servers import ROOT

BAD_INTERVALS = ["abc", "inf", "nan", "0", "-5", "1.5"]

_FLASK_APP = """
from flask import Flask
from pgmetrics.web import WSGIMetricsMiddleware

app = Flask(__name__)
app.get("/x")(lambda: "ok")
app.wsgi_app = WSGIMetricsMiddleware(app.wsgi_app)
print("built")
response = app.test_client().get("/x")
response.close()
print("served", response.status_code, app.wsgi_app.recorder.rejected)
"""

_STARLETTE_APP = """
from starlette.applications import Starlette
from pgmetrics.web import MetricsMiddleware

app = MetricsMiddleware(Starlette())
print("built")
"""


def _start(source: str, interval: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "OBSERVABILITY_METRICS_BATCH_INTERVAL": interval}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("interval", BAD_INTERVALS)
def test_a_flask_app_does_not_start_with_a_malformed_batch_interval(interval: str) -> None:
    started = _start(_FLASK_APP, interval)
    assert started.returncode != 0, started.stdout
    assert "built" not in started.stdout
    assert "ValueError: OBSERVABILITY_METRICS_BATCH_INTERVAL must be" in started.stderr


def test_an_asgi_app_does_not_start_with_a_malformed_batch_interval() -> None:
    started = _start(_STARLETTE_APP, "abc")
    assert started.returncode != 0, started.stdout
    assert "ValueError: OBSERVABILITY_METRICS_BATCH_INTERVAL must be an integer" in started.stderr


def test_a_well_formed_batch_interval_starts_and_records() -> None:
    started = _start(_FLASK_APP, "250")
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["built", "served", "200", "0"]


@pytest.fixture
def unconfigured() -> Iterator[None]:
    previous = configure(None)
    try:
        yield
    finally:
        configure(previous)


@pytest.mark.parametrize("interval", BAD_INTERVALS)
def test_track_operation_raises_at_decoration_before_anything_runs(
    interval: str, monkeypatch: pytest.MonkeyPatch, unconfigured: None
) -> None:
    monkeypatch.setenv("OBSERVABILITY_METRICS_BATCH_INTERVAL", interval)
    ran = []
    with pytest.raises(ValueError, match="OBSERVABILITY_METRICS_BATCH_INTERVAL"):

        @pgmetrics.track_operation("job")
        def job() -> None:
            ran.append(1)

    with (
        pytest.raises(ValueError, match="OBSERVABILITY_METRICS_BATCH_INTERVAL"),
        pgmetrics.track_operation("block"),
    ):
        ran.append(2)
    assert ran == []


def test_track_operation_with_a_storage_does_not_read_the_environment(
    monkeypatch: pytest.MonkeyPatch, unconfigured: None
) -> None:
    monkeypatch.setenv("OBSERVABILITY_METRICS_BATCH_INTERVAL", "abc")
    storage = MemoryMetricsStorage()

    @pgmetrics.track_operation("job", storage=storage)
    def job() -> int:
        return 1

    assert job() == 1
    assert [row.total_executions for row in storage.get_operation_metrics("job")] == [1]


def test_track_operation_refuses_what_it_cannot_use_at_decoration() -> None:
    with pytest.raises(TypeError, match="storage must be a MetricsStorage"):
        pgmetrics.track_operation("job", storage="memory")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decorates a function"):
        pgmetrics.track_operation("job", storage=MemoryMetricsStorage())(42)  # type: ignore[arg-type]
