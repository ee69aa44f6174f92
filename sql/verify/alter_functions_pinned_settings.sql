-- Verify pgmetrics:alter_functions_pinned_settings on pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

-- Every function of the schema but the per-element histogram helpers, the aggregates' support functions and the two
-- per-request recording functions.
SELECT
    1 / (
        NOT EXISTS (
            SELECT
            FROM pg_catalog.pg_proc AS p
            WHERE
                p.pronamespace = 'pgmetrics'::regnamespace
                AND p.prokind IN ('f', 'p')
                AND p.proname !~ '^_histogram_'
                AND p.proname NOT IN ('record_route_metric', 'record_operation_metric')
                AND NOT coalesce(p.proconfig, '{}') @> ARRAY[
                    'search_path=pg_catalog, pg_temp', 'TimeZone=UTC', 'DateStyle=ISO, YMD', 'IntervalStyle=postgres'
                ]
        )
    )::int;

ROLLBACK;
