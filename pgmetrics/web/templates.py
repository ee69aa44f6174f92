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
