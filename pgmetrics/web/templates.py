"""Route templates: the key a request is counted under, never its raw path."""

from __future__ import annotations

import functools
import re

UNMATCHED = "__unmatched__"

# Flask and Django write <int:user_id>, Starlette {user_id:int}; pgmetrics stores {user_id}
# so that one dashboard reads the same keys whatever the framework.
_ANGLE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^:<>]+)>")
_CONVERTER = re.compile(r"\{([^{}:]+):[^{}]*\}")


@functools.lru_cache(maxsize=4096)
def normalise(template: str) -> str:
    """``/users/<int:user_id>``, ``users/<user_id>/`` and ``/users/{user_id:int}`` become
    ``/users/{user_id}`` forms."""
    template = _CONVERTER.sub(r"{\1}", _ANGLE_PARAMETER.sub(r"{\1}", template))
    return template if template.startswith("/") else "/" + template


_REGEX_MARKS = frozenset("^$()\\")
_DROPPED = frozenset("^$?*+")


def _group_end(pattern: str, start: int) -> int:
    """The index after the parenthesis closing the group that opens at ``start``."""
    depth = 0
    index = start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":  # a class may hold parentheses: skip it whole
            index += 1
            while index < len(pattern) and pattern[index] != "]":
                index += 2 if pattern[index] == "\\" else 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return len(pattern)


def regex_template(pattern: str) -> str:
    """A regular-expression route (Django's ``re_path``) as a template:
    ``^legacy/(?P<code>[0-9]{4})/$`` becomes ``legacy/<code>/``, which ``normalise`` turns into
    ``/legacy/{code}/``. Named groups keep their names, other capturing groups become ``<var>``,
    non-capturing groups keep their text, anchors and quantifiers go, escapes are unescaped.
    Text without regular-expression syntax (a ``path()`` route) comes back unchanged."""
    if not _REGEX_MARKS.intersection(pattern):
        return pattern
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            following = pattern[index + 1]
            if following not in "AZbB":
                out.append(following)
            index += 2
        elif pattern.startswith("(?P<", index):
            name_end = pattern.index(">", index)
            out.append(f"<{pattern[index + 4 : name_end]}>")
            index = _group_end(pattern, index)
        elif pattern.startswith("(?:", index):
            end = _group_end(pattern, index)
            out.append(regex_template(pattern[index + 3 : end - 1]))
            index = end
        elif char == "(":
            out.append("<var>")
            index = _group_end(pattern, index)
        elif char == "{" and re.match(r"\{\d*,?\d*\}", pattern[index:]):
            index = pattern.index("}", index) + 1  # a quantifier such as {4} or {2,3}
        elif char in _DROPPED:
            index += 1
        else:
            out.append(char)
            index += 1
    return "".join(out)
