"""Puts the sqitch project (sqitch.plan, sqitch.conf, sql/) inside the built package.

The project stays at the top of the repository, where sqitch, the tests and a DBA's checkout
use it; a wheel carries a byte-for-byte copy in pgmetrics/_sqitch so that ``pgmetrics deploy``
and ``pgmetrics sql`` work wherever the package is installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SQITCH_FILES = ("sqitch.plan", "sqitch.conf")
SQITCH_DIRS = ("sql",)
PACKAGED = Path("pgmetrics", "_sqitch")


def sqitch_sources() -> list[Path]:
    """The sqitch project's files, relative to the repository root (MANIFEST.in lists the same)."""
    sources = [Path(name) for name in SQITCH_FILES]
    for directory in SQITCH_DIRS:
        sources += sorted(path.relative_to(ROOT) for path in (ROOT / directory).rglob("*.sql"))
    return sources


class BuildPyWithSqitch(build_py):
    def run(self) -> None:
        super().run()
        # An editable install reads the checkout itself: pgmetrics.deploy finds sqitch.plan there.
        if self.editable_mode:
            return
        for source in sqitch_sources():
            target = Path(self.build_lib) / PACKAGED / source
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / source, target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            outputs += [str(Path(self.build_lib) / PACKAGED / s) for s in sqitch_sources()]
        return outputs


setup(cmdclass={"build_py": BuildPyWithSqitch})
