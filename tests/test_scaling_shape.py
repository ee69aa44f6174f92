"""The schema keeps the shape docs/scaling.md's Citus plan relies on: every table classified,
every unique key of a distributed table holding its distribution column, no foreign key, and
recording functions that take the distribution key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Database

SCALING = Path(__file__).parent.parent / "docs" / "scaling.md"
_ROW = re.compile(
    r"^\| `(\w+)` \| (distributed|reference|local \(coordinator\)) \|\s*`?(\w*)`?\s*\|$"
)


def _plan() -> dict[str, str | None]:
    """Table name to distribution column (None for reference and local tables), as documented."""
    plan: dict[str, str | None] = {}
    for line in SCALING.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            table, kind, column = match.groups()
            plan[table] = column if kind == "distributed" else None
    return plan


def _tables(db: Database) -> set[str]:
    """Tables of the schema; the partitions of a partitioned table follow their parent."""
    with db.connect() as conn:
        rows = conn.execute(
            """
            SELECT c.relname FROM pg_class AS c
            WHERE c.relnamespace = 'pgmetrics'::regnamespace
              AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            """
        ).fetchall()
    return {str(name) for (name,) in rows}


def _distributed() -> dict[str, str]:
    return {table: column for table, column in _plan().items() if column is not None}


def test_every_table_is_classified_in_the_citus_plan(db: Database) -> None:
    plan = _plan()
    assert plan, "docs/scaling.md lost its table of Citus kinds"
    assert _tables(db) == set(plan)


def test_every_unique_key_of_a_distributed_table_holds_its_distribution_column(
    db: Database,
) -> None:
    distributed = _distributed()
    with db.connect() as conn:
        rows = conn.execute(
            """
            SELECT c.relname, i.indexrelid::regclass::text,
                   array_agg(a.attname ORDER BY k.ordinality)
            FROM pg_index AS i
            JOIN pg_class AS c ON c.oid = i.indrelid
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ordinality)
            LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
            WHERE c.relnamespace = 'pgmetrics'::regnamespace AND i.indisunique
              AND NOT c.relispartition
            GROUP BY c.relname, i.indexrelid
            """
        ).fetchall()
    checked = 0
    for table, index, columns in rows:
        if table in distributed:
            checked += 1
            assert distributed[table] in columns, f"{index} on {table} lacks the key"
    assert checked >= 4, "the distributed tables have lost their primary keys"


def test_no_foreign_key_crosses_tables(db: Database) -> None:
    with db.connect() as conn:
        foreign = conn.execute(
            """
            SELECT conname FROM pg_constraint
            WHERE connamespace = 'pgmetrics'::regnamespace AND contype = 'f'
            """
        ).fetchall()
    assert foreign == []


def test_distributed_columns_share_one_type_per_colocation_group(db: Database) -> None:
    distributed = _distributed()
    with db.connect() as conn:
        types = {
            (str(table), str(column)): str(kind)
            for table, column, kind in conn.execute(
                """
                SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
                FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid
                WHERE c.relnamespace = 'pgmetrics'::regnamespace AND a.attnum > 0
                """
            ).fetchall()
        }
    for table, column in distributed.items():
        assert types[(table, column)] == "text", (table, column)


@pytest.mark.parametrize(
    ("function", "argument"),
    [("record_route_metric", "route"), ("record_operation_metric", "operation")],
)
def test_recording_functions_take_the_distribution_key(
    db: Database, function: str, argument: str
) -> None:
    """create_distributed_function routes a call by one argument of the column's type."""
    with db.connect() as conn:
        rows = conn.execute(
            """
            SELECT p.proargnames, p.proargtypes::regtype[]::text[]
            FROM pg_proc AS p
            WHERE p.pronamespace = 'pgmetrics'::regnamespace AND p.proname = %s
            """,
            (function,),
        ).fetchall()
    assert len(rows) == 1, f"{function} has {len(rows)} overloads; one routable signature expected"
    names, types = rows[0]
    assert argument in names
    assert types[names.index(argument)] == "text"
