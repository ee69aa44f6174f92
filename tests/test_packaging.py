"""The wheel carries the sqitch project: installed outside the checkout, it deploys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from pgmetrics.deploy import project_dir
from pgmetrics.plan import read_plan
from pgmetrics.sqlscript import render
from tests.conftest import Database

ROOT = Path(__file__).resolve().parent.parent
SQITCH_PROJECT = ["sqitch.plan", "sqitch.conf", "sql"]

pytestmark = pytest.mark.slow
# What a source tree holds that a build must not see: environments, caches, earlier builds.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "__pycache__",
    "build",
    "dist",
    "*.egg-info",
)


def checkout_files() -> dict[str, bytes]:
    files = {}
    for name in SQITCH_PROJECT:
        path = ROOT / name
        for file in sorted(path.rglob("*.sql")) if path.is_dir() else [path]:
            files[file.relative_to(ROOT).as_posix()] = file.read_bytes()
    return files


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An sdist and a wheel built from it, as `python -m build` makes them; and its output."""
    out = tmp_path_factory.mktemp("dist")
    # A copy of the checkout: setuptools writes its egg-info and staging directories into the
    # source tree, which another build (or another test run) may be using at the same time.
    source = tmp_path_factory.mktemp("source") / "pgmetrics"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheel(dist: tuple[Path, str]) -> Path:
    (path,) = dist[0].glob("pgmetrics-*.whl")
    return path


def test_the_build_has_no_license_warning(dist: tuple[Path, str]) -> None:
    assert "project.license" not in dist[1]


def test_the_wheel_carries_the_sqitch_project_byte_for_byte(wheel: Path) -> None:
    prefix = "pgmetrics/_sqitch/"
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            name[len(prefix) :]: archive.read(name)
            for name in archive.namelist()
            if name.startswith(prefix)
        }
    assert packaged == checkout_files()


def test_the_installed_wheel_deploys_from_anywhere(
    wheel: Path, empty_db: Database, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    subprocess.run([*install, "--no-index", str(wheel)], check=True, capture_output=True)
    # psycopg and psycopg_pool come from the test environment, not from an index.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PGMETRICS_SQITCH_DIR", "PYTHONPATH")}
    env["OBSERVABILITY_METRICS_DATABASE_URL"] = empty_db.dsn
    env.pop("OBSERVABILITY_METRICS_RETENTION_DAYS", None)

    def run(*command: str) -> str:
        proc = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    where = run(str(python), "-c", "from pgmetrics.deploy import project_dir; print(project_dir())")
    assert Path(where.strip()) == Path(site, "pgmetrics", "_sqitch")

    assert "the schema is up to date" in run(str(venv / "bin" / "pgmetrics"), "deploy")
    assert "Nothing to deploy (up-to-date)" in run(str(venv / "bin" / "pgmetrics"), "status")
    with empty_db.connect() as conn:
        conn.execute("SELECT pgmetrics.record_route_metric('/from/wheel', 'GET', true, 4)")
        conn.execute("SELECT pgmetrics.fold_events()")
        row = conn.execute("SELECT total_requests FROM pgmetrics.route_metrics").fetchone()
    assert row == (1,)

    # The installed package prints the script the checkout prints.
    assert run(str(venv / "bin" / "pgmetrics"), "sql") == render(read_plan(project_dir()).steps)


def test_the_wheel_carries_the_dashboard_assets(wheel: Path) -> None:
    static = ROOT / "pgmetrics" / "web" / "dashboard" / "static"
    with zipfile.ZipFile(wheel) as archive:
        for path in sorted(static.iterdir()):
            name = f"pgmetrics/web/dashboard/static/{path.name}"
            assert archive.read(name) == path.read_bytes(), name
