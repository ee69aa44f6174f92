"""The package and the sqitch plan are released together: one version, tagged at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pgmetrics
from pgmetrics.plan import read_plan

ROOT = Path(__file__).resolve().parent.parent


def test_package_version_is_the_plans_latest_tag() -> None:
    plan = read_plan(ROOT)
    latest = max(plan.tags, key=plan.tags.__getitem__)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"v{pgmetrics.__version__}" == f"v{project['version']}" == latest
