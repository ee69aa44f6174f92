"""What the fuzz tests of the Python API (test_fuzz_python.py) and of the SQL functions
(test_fuzz_sql.py) share: the settings, the way arguments are drawn, and the count of inputs the
run reports at its end."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pgmetrics import checks

# Inputs per fuzz target: 12 targets, 12,000 inputs in all.
EXAMPLES = 1000
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same inputs on every run: a failure is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
METHODS = tuple(sorted(checks.METHODS))


@st.composite
def arguments(
    draw: st.DrawFn,
    valid: tuple[st.SearchStrategy[Any], ...],
    fuzzy: tuple[st.SearchStrategy[Any], ...],
) -> tuple[Any, ...]:
    """Valid arguments, then about half of the time one of them (sometimes two) replaced by a
    fuzzy value: so that many inputs are accepted and checked, and each argument is attacked."""
    values = [draw(strategy) for strategy in valid]
    for _ in range(2 if draw(st.integers(0, 4)) == 0 else 1):
        k = draw(st.integers(0, 2 * len(valid) - 1))
        if k < len(valid):
            values[k] = draw(fuzzy[k])
    return tuple(values)


# Inputs tried per fuzz target, reported at the end of the run (conftest.py adds up those of
# every xdist worker).
FUZZ_INPUTS: dict[str, int] = {}
FUZZ_ACCEPTED: dict[str, int] = {}


def count_fuzz_input(target: str, *, accepted: bool | None = None) -> None:
    """Counts one input of ``target``; ``accepted`` counts one input's outcome."""
    if accepted is None:
        FUZZ_INPUTS[target] = FUZZ_INPUTS.get(target, 0) + 1
    elif accepted:
        FUZZ_ACCEPTED[target] = FUZZ_ACCEPTED.get(target, 0) + 1
