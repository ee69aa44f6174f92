"""The sqitch plan read the way sqitch reads it: the changes in order, the script each one
deploys, verifies and reverts, and sqitch's own change ids.

Only what ``pgmetrics sql`` needs is read: pragmas, changes, tags and notes. A reworked change
(one name planned again after a tag) deploys ``name@TAG.sql`` for its earlier occurrences, where
TAG is the first of its rework tags whose file exists (sqitch lists them from the latest tag
back to the change), and ``name.sql`` for its last occurrence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path


class PlanError(ValueError):
    """The plan or sqitch.conf holds something this reader does not handle."""


_TIMESTAMP = r"(?P<timestamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"
_PLANNER = r"(?P<planner_name>[^<]+?)[ \t]+<(?P<planner_email>[^>]+)>"
_CHANGE = re.compile(
    r"^[ \t]*(?P<operator>[+-])?[ \t]*(?P<name>[^ \t:@#\\\[]+)[ \t]*"
    r"(?:\[(?P<dependencies>[^\]]+)\][ \t]*)?" + _TIMESTAMP + r"[ \t]+" + _PLANNER + r"$"
)
_TAG = re.compile(r"^[ \t]*@(?P<name>[^ \t:@#\\]+)[ \t]+" + _TIMESTAMP + r"[ \t]+" + _PLANNER + "$")
_PRAGMA = re.compile(r"^[ \t]*%[ \t]*(?P<name>[\w-]+)(?:[ \t]*=[ \t]*(?P<value>.*?))?[ \t]*$")
_UNESCAPE = {"\\\\": "\\", "\\n": "\n", "\\r": "\r"}


@dataclass
class Change:
    """One line of the plan that deploys a change."""

    name: str
    parent: Change | None
    requires: tuple[str, ...]
    conflicts: tuple[str, ...]
    timestamp: str
    planner: str
    note: str
    project: str
    uri: str | None
    tags: list[str] = field(default_factory=list)
    rework_tags: list[str] = field(default_factory=list)

    @property
    def info(self) -> str:
        """The text sqitch hashes into the change id (App::Sqitch::Plan::Change->info)."""
        lines = [f"project {self.project}"]
        if self.uri:
            lines.append(f"uri {self.uri}")
        lines.append(f"change {self.name}")
        if self.parent is not None:
            lines.append(f"parent {self.parent.change_id}")
        lines += [f"planner {self.planner}", f"date {self.timestamp}"]
        if self.requires:
            lines.append("requires\n  + " + "\n  + ".join(self.requires))
        if self.conflicts:
            lines.append("conflicts\n  - " + "\n  - ".join(self.conflicts))
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)

    @property
    def change_id(self) -> str:
        """The id sqitch records in sqitch.changes for this change."""
        content = self.info.encode()
        return hashlib.sha1(  # noqa: S324 - sqitch's id scheme, not a security measure
            b"change %d\0" % len(content) + content
        ).hexdigest()


@dataclass(frozen=True)
class Step:
    """A change with the scripts that deploy and verify it."""

    change: Change
    deploy: Path
    verify: Path
    revert: Path

    @property
    def script_hash(self) -> str:
        """SHA-1 of the deploy script, as sqitch records it."""
        return hashlib.sha1(self.deploy.read_bytes()).hexdigest()  # noqa: S324 - as sqitch


@dataclass(frozen=True)
class Plan:
    project: str
    steps: tuple[Step, ...]
    tags: dict[str, int]  # tag name -> index of the step it follows

    def upto(self, target: str | None) -> tuple[Step, ...]:
        """The steps up to ``target`` included: ``@tag``, a change name (its last occurrence)
        or None for all of them."""
        if target is None:
            return self.steps
        if target.startswith("@"):
            if target[1:] not in self.tags:
                raise PlanError(f"unknown tag {target}")
            return self.steps[: self.tags[target[1:]] + 1]
        last = [i for i, step in enumerate(self.steps) if step.change.name == target]
        if not last:
            raise PlanError(f"unknown change {target}")
        return self.steps[: last[-1] + 1]


def read_config(path: Path) -> dict[str, str]:
    """``section.key`` -> value of a git-style config file such as sqitch.conf."""
    values: dict[str, str] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = re.sub(r'\s+"([^"]*)"', r".\1", line.strip("[]")).strip().lower()
            continue
        key, _, value = line.partition("=")
        values[f"{section}.{key.strip().lower()}"] = value.strip().strip('"')
    return values


def _dependency(text: str, project: str) -> str:
    """A dependency as sqitch writes it into the change info."""
    prefix = f"{project}:"
    return text[len(prefix) :] if text.startswith(prefix) else text


def read_plan(project_dir: Path) -> Plan:
    """Reads sqitch.conf and the plan it names under ``project_dir``."""
    config = read_config(project_dir / "sqitch.conf")
    if config.get("core.engine", "pg") != "pg":
        raise PlanError("sqitch.conf: only the pg engine is supported")
    top = project_dir / config.get("core.top_dir", ".")
    plan_file = project_dir / config.get("core.plan_file", str(top / "sqitch.plan"))
    dirs = {
        kind: project_dir / config[f"core.{kind}_dir"]
        if f"core.{kind}_dir" in config
        else top / kind
        for kind in ("deploy", "revert", "verify")
    }

    pragmas: dict[str, str] = {}
    changes: list[Change] = []
    tags: dict[str, int] = {}
    last_named: dict[str, int] = {}
    for number, raw in enumerate(plan_file.read_text(encoding="utf-8").splitlines(), 1):
        body, hash_mark, note = raw.partition("#")
        body = body.rstrip()
        if not body.strip():
            continue  # blank line or comment
        note = note.strip() if hash_mark else ""
        for escaped, plain in _UNESCAPE.items():
            note = note.replace(escaped, plain)
        if pragma := _PRAGMA.match(body):
            pragmas[pragma["name"]] = pragma["value"] or "1"
            continue
        if tag := _TAG.match(body):
            if not changes:
                raise PlanError(f"{plan_file}:{number}: a tag before any change")
            changes[-1].tags.append("@" + tag["name"])
            tags[tag["name"]] = len(changes) - 1
            continue
        match = _CHANGE.match(body)
        if match is None:
            raise PlanError(f"{plan_file}:{number}: not a change, tag or pragma: {raw!r}")
        if match["operator"] == "-":
            raise PlanError(f"{plan_file}:{number}: revert lines in the plan are not supported")
        if "project" not in pragmas:
            raise PlanError(f"{plan_file}: missing %project pragma")
        project = pragmas["project"]
        dependencies = (match["dependencies"] or "").split()
        change = Change(
            name=match["name"],
            parent=changes[-1] if changes else None,
            requires=tuple(_dependency(d, project) for d in dependencies if d[0] != "!"),
            conflicts=tuple(_dependency(d[1:], project) for d in dependencies if d[0] == "!"),
            timestamp=match["timestamp"],
            planner=f"{match['planner_name']} <{match['planner_email']}>",
            note=note,
            project=project,
            uri=pragmas.get("uri"),
        )
        if (earlier := last_named.get(change.name)) is not None:
            # As App::Sqitch::Plan does: the tags of the changes in between, latest first,
            # then the reworked change's own tags.
            for between in reversed(changes[earlier + 1 :]):
                changes[earlier].rework_tags += between.tags
            changes[earlier].rework_tags += changes[earlier].tags
        last_named[change.name] = len(changes)
        changes.append(change)

    steps = []
    for change in changes:
        *parts, base = change.name.split("/")
        filename = base + ".sql"
        if change.rework_tags:
            candidates = [f"{base}{tag}.sql" for tag in change.rework_tags]
            existing = [c for c in candidates if dirs["deploy"].joinpath(*parts, c).is_file()]
            filename = (existing or candidates)[0]
        steps.append(
            Step(
                change,
                *(dirs[kind].joinpath(*parts, filename) for kind in ("deploy", "verify", "revert")),
            )
        )
    return Plan(pragmas.get("project", ""), tuple(steps), tags)
