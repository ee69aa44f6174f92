-- Deploy pgmetrics:function__fold_events to pg
-- requires: function__fold_events@v0.6.0
-- requires: setting_max_keys_per_hour

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._fold_events(boolean, timestamptz);

CREATE FUNCTION pgmetrics._fold_events(wait boolean, roll_until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
-- The groupings of rows below (a backfill's events, its keys and hours) sort in memory up to this size.
SET work_mem = '256MB'
-- With the hourly tier split into a partition per day, the estimated cost of these statements passes jit_above_cost
-- and JIT compiles the expressions of every partition: seconds per call, even with nothing pending.
SET jit = off
-- Sorted groupings degrade gradually past work_mem; hashed ones, chosen on the planner's guess of what is pending,
-- spill their batches again and again: a bulk of full hours folded several times slower.
SET enable_hashagg = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $$
DECLARE
    v_route_cells bigint;
    v_route_events bigint;
    v_operation_cells bigint;
    v_operation_events bigint;
    v_route_overflowed bigint;
    v_operation_overflowed bigint;
    -- Read once: both statements bound keys by the same value.
    v_max_keys integer := pgmetrics._setting('max_keys_per_hour');
    v_first_day timestamptz := pg_catalog.date_trunc(
        'day', pg_catalog.now() - pg_catalog.make_interval(days => pgmetrics._setting('retention_days')), 'UTC'
    );
    v_end timestamptz := pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC') + INTERVAL '4 days';
    -- The rollups hold the hours before v_from; this fold makes them hold the hours before v_to.
    v_from timestamptz;
    v_to timestamptz;
BEGIN
    /*
     * The rollup in the manner of a continuous aggregate: writers only append (cells, events), and this moves what
     * they appended into the hourly tier and every rollup tier (UTC day, ISO week, month, local days of the report
     * zones) in one transaction, so a reader sees each event either pending or folded, never both. Each touched row
     * is replaced by stored + pending: its histogram merged once per fold, on its own and in memory, its quantiles
     * found in the same walk of its buckets. Only this function writes those tables, under the fold row lock, so the
     * values read at the start of the statement are the ones it replaces.
     *
     * An hour goes into the rollups once it is before roll_until: pending data of earlier hours goes to every tier,
     * that of later hours (the hour under way) to the hourly tier only, and the hourly rows of the hours that
     * roll_until passed since the last fold are added to the rollups whole. So each fold in an hour rewrites one row
     * per busy key, not six, and readers add the hours from the watermark on (docs/TIERS.md).
     */
    IF _fold_events.wait IS NULL THEN
        RAISE EXCEPTION 'wait must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF _fold_events.wait THEN
        PERFORM 1 FROM pgmetrics.locks AS l WHERE l.name = 'fold' FOR UPDATE;
    ELSE
        PERFORM 1 FROM pgmetrics.locks AS l WHERE l.name = 'fold' FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN pg_catalog.jsonb_build_object('skipped', 'another fold is running');
        END IF;
    END IF;
    IF _fold_events.roll_until IS NULL THEN
        RAISE EXCEPTION 'roll_until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT w.rolled_until INTO v_from FROM pgmetrics.rollup_watermark AS w;
    v_to := GREATEST(v_from, pg_catalog.date_trunc('hour', _fold_events.roll_until, 'UTC'));

    WITH cells AS (
        DELETE FROM pgmetrics.route_cells AS c
        RETURNING
            c.route, c.method, c.period_start, c.total_requests, c.successful, c.total_duration_ms,
            c.min_duration_ms, c.max_duration_ms, c.last_request_at, c.zero_count, c.duration_histogram
    ),
    events AS (
        DELETE FROM pgmetrics.route_events AS e
        RETURNING e.route, e.method, e.period_start, e.success, e.duration_ms, e.at
    ),
    tiers AS (
        SELECT t.grain, 'UTC' AS zone FROM (VALUES ('day'), ('week'), ('month')) AS t (grain)
        UNION ALL
        SELECT 'day', z.zone FROM pgmetrics.report_zones AS z
    ),
    -- What the pending cells and events add to each key and UTC hour. Its histogram is the concatenation of its
    -- parts (each cell's, and one element per event): buckets repeat until a merge sums them.
    hours AS MATERIALIZED (
        SELECT
            x.route, x.method, x.period_start, pg_catalog.sum(x.n)::bigint AS n, pg_catalog.sum(x.s)::bigint AS s,
            pg_catalog.sum(x.d) AS d, pg_catalog.min(x.lo) AS lo, pg_catalog.max(x.hi) AS hi,
            pg_catalog.max(x.t) AS t, pg_catalog.sum(x.z)::bigint AS z, pg_catalog.count(*) AS parts,
            pgmetrics._histogram_concat(x.h) AS h
        FROM (
            SELECT
                c.route, c.method, c.period_start, c.total_requests, c.successful, c.total_duration_ms,
                c.min_duration_ms, c.max_duration_ms, c.last_request_at, c.zero_count, c.duration_histogram
            FROM cells AS c
            UNION ALL
            SELECT
                e.route, e.method, e.period_start, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE e.success),
                pg_catalog.sum(e.duration_ms), pg_catalog.min(e.duration_ms), pg_catalog.max(e.duration_ms),
                pg_catalog.max(e.at), pg_catalog.count(*) FILTER (WHERE e.duration_ms = 0),
                pg_catalog.array_agg((b.bucket << 15) | 1) FILTER (WHERE e.duration_ms > 0)
            FROM events AS e
            -- The bucket of _histogram_bucket, computed inline where the logarithm is trusted (docs/HISTOGRAM.md).
            CROSS JOIN LATERAL (
                SELECT CASE WHEN e.duration_ms > 0 THEN pg_catalog.ln(e.duration_ms) / 0.020000666706669435 END
            ) AS l (x)
            CROSS JOIN LATERAL (
                SELECT CASE
                    WHEN pg_catalog.ceil(l.x) - l.x > 1e-6 AND l.x - (pg_catalog.ceil(l.x) - 1) > 1e-6
                        THEN pg_catalog.ceil(l.x)::int
                    WHEN e.duration_ms > 0 THEN pgmetrics._histogram_bucket(e.duration_ms)
                END
            ) AS b (bucket)
            GROUP BY e.route, e.method, e.period_start
        ) AS x (route, method, period_start, n, s, d, lo, hi, t, z, h)
        GROUP BY x.route, x.method, x.period_start
    ),
    /*
     * Distinct keys are bounded per UTC hour (max_keys_per_hour): no cell bound limits how many a writer sends, and
     * 100,000 distinct routes of 1,024 characters stored 581 MB. A key-hour already stored always takes more; a new
     * one is stored while its hour has room, the busiest first (then by key, so that every fold ranks alike); the
     * rest are counted under route '__overflow__', their method kept, as the Python client counts keys past
     * max_keys. So no event is lost, only its key. The stored keys are counted for the pending hours only.
     */
    fresh AS MATERIALIZED (
        SELECT
            h.route, h.method, h.period_start,
            pg_catalog.row_number() OVER (
                PARTITION BY h.period_start ORDER BY h.n DESC, h.route, h.method
            ) AS rank
        FROM hours AS h
        WHERE
            h.route <> '__overflow__'
            AND NOT EXISTS (
                SELECT FROM pgmetrics.route_metrics AS m
                WHERE m.route = h.route AND m.method = h.method AND m.period_start = h.period_start
            )
    ),
    room AS MATERIALIZED (
        SELECT
            p.period_start,
            v_max_keys - (
                SELECT pg_catalog.count(*) FROM pgmetrics.route_metrics AS m WHERE m.period_start = p.period_start
            ) AS keys
        FROM (SELECT DISTINCT f.period_start FROM fresh AS f) AS p
    ),
    overflowed AS MATERIALIZED (
        SELECT f.route, f.method, f.period_start
        FROM fresh AS f
        INNER JOIN room AS r ON r.period_start = f.period_start
        WHERE f.rank > r.keys
    ),
    -- The hours to store: as they are, but for the overflowed keys and the overflow key of their method and hour,
    -- grouped again into that overflow key as hours grouped them.
    bounded AS MATERIALIZED (
        SELECT h.route, h.method, h.period_start, h.n, h.s, h.d, h.lo, h.hi, h.t, h.z, h.parts, h.h
        FROM hours AS h
        WHERE NOT EXISTS (
            SELECT FROM overflowed AS o
            WHERE
                o.method = h.method AND o.period_start = h.period_start
                AND (o.route = h.route OR h.route = '__overflow__')
        )
        UNION ALL
        SELECT
            '__overflow__', h.method, h.period_start, pg_catalog.sum(h.n)::bigint, pg_catalog.sum(h.s)::bigint,
            pg_catalog.sum(h.d), pg_catalog.min(h.lo), pg_catalog.max(h.hi), pg_catalog.max(h.t),
            pg_catalog.sum(h.z)::bigint, pg_catalog.sum(h.parts)::bigint, pgmetrics._histogram_concat(h.h)
        FROM hours AS h
        WHERE EXISTS (
            SELECT FROM overflowed AS o
            WHERE
                o.method = h.method AND o.period_start = h.period_start
                AND (o.route = h.route OR h.route = '__overflow__')
        )
        GROUP BY h.method, h.period_start
    ),
    -- The hours going into the rollups: the pending ones that are over, and the stored ones the watermark passes now
    -- (pending data of such an hour is in both: the stored part, then what is added to it).
    feed AS MATERIALIZED (
        SELECT h.route, h.method, h.period_start, h.n, h.s, h.d, h.lo, h.hi, h.t, h.z, h.parts, h.h
        FROM bounded AS h
        WHERE h.period_start < v_to
        UNION ALL
        SELECT
            m.route, m.method, m.period_start, m.total_requests, m.successful, m.total_duration_ms,
            m.min_duration_ms, m.max_duration_ms, m.last_request_at, m.zero_count, 1, m.duration_histogram
        FROM pgmetrics.route_metrics AS m
        WHERE m.period_start >= v_from AND m.period_start < v_to
    ),
    -- Hours in the same day of every day tier (UTC and each report zone) form a segment: it starts at the latest of
    -- their days' starts, since no tier's day can end between two hours that share that latest start.
    hour_segments AS MATERIALIZED (
        SELECT f.period_start, pg_catalog.max(pg_catalog.date_trunc('day', f.period_start, t.zone)) AS segment_start
        FROM (SELECT DISTINCT f.period_start FROM feed AS f) AS f
        CROSS JOIN tiers AS t
        WHERE t.grain = 'day'
        GROUP BY f.period_start
    ),
    -- Each segment of a key, its hours merged once: every rollup row holding it then adds one part, not one per hour.
    segments AS MATERIALIZED (
        SELECT
            g.route, g.method, g.segment_start, g.n, g.s, g.d, g.lo, g.hi, g.t, g.z,
            CASE WHEN g.parts = 1 THEN g.h ELSE pgmetrics._histogram_merge(g.h, NULL) END AS h
        FROM (
            SELECT
                f.route, f.method, s.segment_start, pg_catalog.sum(f.n)::bigint AS n,
                pg_catalog.sum(f.s)::bigint AS s, pg_catalog.sum(f.d) AS d, pg_catalog.min(f.lo) AS lo,
                pg_catalog.max(f.hi) AS hi, pg_catalog.max(f.t) AS t, pg_catalog.sum(f.z)::bigint AS z,
                pg_catalog.sum(f.parts) AS parts, pgmetrics._histogram_concat(f.h) AS h
            FROM feed AS f
            INNER JOIN hour_segments AS s ON s.period_start = f.period_start
            GROUP BY f.route, f.method, s.segment_start
        ) AS g
    ),
    -- Every row this fold writes, with what it adds: an hour's pending parts, a rollup row's segments.
    targets AS MATERIALIZED (
        SELECT
            'hour' AS grain, 'UTC' AS zone, h.route, h.method, h.period_start, h.n, h.s, h.d, h.lo, h.hi, h.t, h.z,
            h.h
        FROM bounded AS h
        UNION ALL
        SELECT
            t.grain, t.zone, g.route, g.method, p.period_start, pg_catalog.sum(g.n)::bigint,
            pg_catalog.sum(g.s)::bigint, pg_catalog.sum(g.d), pg_catalog.min(g.lo), pg_catalog.max(g.hi),
            pg_catalog.max(g.t), pg_catalog.sum(g.z)::bigint, pgmetrics._histogram_concat(g.h)
        FROM segments AS g
        CROSS JOIN tiers AS t
        CROSS JOIN LATERAL (SELECT pg_catalog.date_trunc(t.grain, g.segment_start, t.zone)) AS p (period_start)
        GROUP BY t.grain, t.zone, g.route, g.method, p.period_start
    ),
    -- Stored + pending, for each row written: one merge of its histogram, on its own and in memory.
    totals AS MATERIALIZED (
        SELECT
            k.grain, k.zone, k.route, k.method, k.period_start,
            k.n + COALESCE(m.total_requests, r.total_requests, 0) AS n,
            k.s + COALESCE(m.successful, r.successful, 0) AS s,
            k.d + COALESCE(m.total_duration_ms, r.total_duration_ms, 0) AS d,
            LEAST(k.lo, m.min_duration_ms, r.min_duration_ms) AS lo,
            GREATEST(k.hi, m.max_duration_ms, r.max_duration_ms) AS hi,
            GREATEST(k.t, m.last_request_at, r.last_request_at) AS t,
            k.z + COALESCE(m.zero_count, r.zero_count, 0) AS z,
            k.h || COALESCE(m.duration_histogram, r.duration_histogram) AS h
        FROM targets AS k
        LEFT JOIN pgmetrics.route_metrics AS m
            ON k.grain = 'hour' AND m.route = k.route AND m.method = k.method AND m.period_start = k.period_start
        LEFT JOIN pgmetrics.route_metrics_rollup AS r
            ON k.grain <> 'hour' AND r.route = k.route AND r.method = k.method AND r.grain = k.grain
            AND r.zone = k.zone AND r.period_start = k.period_start
    ),
    merged AS MATERIALIZED (
        SELECT o.*, q.histogram, q.split, q.b50, q.b95, q.b99
        FROM totals AS o
        CROSS JOIN LATERAL (
            SELECT
                GREATEST(1, pg_catalog.ceil(0.5 * o.n::double precision)),
                GREATEST(1, pg_catalog.ceil(0.95 * o.n::double precision)),
                GREATEST(1, pg_catalog.ceil(0.99 * o.n::double precision))
        ) AS r (r50, r95, r99)
        /*
         * One grouping per row, of its few hundred elements, in memory; its running count, after the zeros, gives
         * the nearest ranks: the first bucket whose count reaches each. The aggregate reads the window's output in
         * bucket order, so the elements ascend without a sort per row. Counts in double precision: exact to 2^53,
         * and far cheaper per element than numeric. A count above 32767 takes several elements (_histogram_merge).
         */
        CROSS JOIN LATERAL (
            SELECT
                pg_catalog.array_agg((w.bucket << 15) | w.c::int) FILTER (WHERE w.c <= 32767) AS histogram,
                pg_catalog.bool_or(w.c > 32767) AS split,
                pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= r.r50) AS b50,
                pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= r.r95) AS b95,
                pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= r.r99) AS b99
            FROM (
                SELECT
                    g.bucket, g.c, o.z + pg_catalog.sum(g.c) OVER (ORDER BY g.bucket) AS seen
                FROM (
                    SELECT e >> 15 AS bucket, pg_catalog.sum(e & 32767)::double precision AS c
                    FROM pg_catalog.unnest(o.h) AS e
                    GROUP BY 1
                ) AS g
            ) AS w
        ) AS q
        WHERE pg_catalog.cardinality(o.h) > 1
        UNION ALL
        -- One element (a key and hour of a single event, say) is its own histogram: nothing to merge.
        SELECT o.*, o.h, FALSE, o.h[1] >> 15, o.h[1] >> 15, o.h[1] >> 15
        FROM totals AS o
        WHERE pg_catalog.cardinality(o.h) <= 1
    ),
    result AS MATERIALIZED (
        SELECT
            o.grain, o.zone, o.route, o.method, o.period_start, o.n, o.s, o.d, o.lo, o.hi, o.t, o.z,
            CASE WHEN o.split THEN pgmetrics._histogram_merge(o.h, NULL) ELSE COALESCE(o.histogram, '{}') END
                AS histogram,
            ARRAY[
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.5 * o.n)) <= o.z THEN 0
                    WHEN o.b50 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        o.b50 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi),
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.95 * o.n)) <= o.z THEN 0
                    WHEN o.b95 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        o.b95 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi),
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.99 * o.n)) <= o.z THEN 0
                    WHEN o.b99 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        o.b99 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi)
            ]::double precision [] AS quantiles
        FROM merged AS o
    ),
    hourly AS (
        INSERT INTO pgmetrics.route_metrics AS m (
            route, method, period_start, period_end, total_requests, successful, failed, total_duration_ms,
            min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram, duration_quantiles
        )
        SELECT
            r.route, r.method, r.period_start, r.period_start + INTERVAL '1 hour', r.n, r.s, r.n - r.s, r.d, r.lo,
            r.hi, r.t, r.z, r.histogram, r.quantiles
        FROM result AS r
        WHERE r.grain = 'hour'
        ON CONFLICT ON CONSTRAINT route_metrics_pkey DO UPDATE SET
            total_requests = excluded.total_requests,
            successful = excluded.successful,
            failed = excluded.failed,
            total_duration_ms = excluded.total_duration_ms,
            min_duration_ms = excluded.min_duration_ms,
            max_duration_ms = excluded.max_duration_ms,
            last_request_at = excluded.last_request_at,
            zero_count = excluded.zero_count,
            duration_histogram = excluded.duration_histogram,
            duration_quantiles = excluded.duration_quantiles,
            updated_at = pg_catalog.now()
    ),
    rollups AS (
        INSERT INTO pgmetrics.route_metrics_rollup AS m (
            route, method, grain, zone, period_start, total_requests, successful, failed, total_duration_ms,
            min_duration_ms, max_duration_ms, last_request_at, zero_count, duration_histogram, duration_quantiles
        )
        SELECT
            r.route, r.method, r.grain, r.zone, r.period_start, r.n, r.s, r.n - r.s, r.d, r.lo, r.hi, r.t, r.z,
            r.histogram, r.quantiles
        FROM result AS r
        WHERE r.grain <> 'hour'
        ON CONFLICT ON CONSTRAINT route_metrics_rollup_pkey DO UPDATE SET
            total_requests = excluded.total_requests,
            successful = excluded.successful,
            failed = excluded.failed,
            total_duration_ms = excluded.total_duration_ms,
            min_duration_ms = excluded.min_duration_ms,
            max_duration_ms = excluded.max_duration_ms,
            last_request_at = excluded.last_request_at,
            zero_count = excluded.zero_count,
            duration_histogram = excluded.duration_histogram,
            duration_quantiles = excluded.duration_quantiles,
            updated_at = pg_catalog.now()
    )
    SELECT
        (SELECT pg_catalog.count(*) FROM cells), (SELECT pg_catalog.count(*) FROM events),
        (SELECT pg_catalog.count(*) FROM overflowed)
    INTO v_route_cells, v_route_events, v_route_overflowed;

    WITH cells AS (
        DELETE FROM pgmetrics.operation_cells AS c
        RETURNING
            c.operation, c.period_start, c.total_executions, c.successful, c.total_duration_ms,
            c.min_duration_ms, c.max_duration_ms, c.last_execution_at, c.zero_count, c.duration_histogram
    ),
    events AS (
        DELETE FROM pgmetrics.operation_events AS e
        RETURNING e.operation, e.period_start, e.success, e.duration_ms, e.at
    ),
    tiers AS (
        SELECT t.grain, 'UTC' AS zone FROM (VALUES ('day'), ('week'), ('month')) AS t (grain)
        UNION ALL
        SELECT 'day', z.zone FROM pgmetrics.report_zones AS z
    ),
    -- What the pending cells and events add to each key and UTC hour. Its histogram is the concatenation of its
    -- parts (each cell's, and one element per event): buckets repeat until a merge sums them.
    hours AS MATERIALIZED (
        SELECT
            x.operation, x.period_start, pg_catalog.sum(x.n)::bigint AS n, pg_catalog.sum(x.s)::bigint AS s,
            pg_catalog.sum(x.d) AS d, pg_catalog.min(x.lo) AS lo, pg_catalog.max(x.hi) AS hi,
            pg_catalog.max(x.t) AS t, pg_catalog.sum(x.z)::bigint AS z, pg_catalog.count(*) AS parts,
            pgmetrics._histogram_concat(x.h) AS h
        FROM (
            SELECT
                c.operation, c.period_start, c.total_executions, c.successful, c.total_duration_ms,
                c.min_duration_ms, c.max_duration_ms, c.last_execution_at, c.zero_count, c.duration_histogram
            FROM cells AS c
            UNION ALL
            SELECT
                e.operation, e.period_start, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE e.success),
                pg_catalog.sum(e.duration_ms), pg_catalog.min(e.duration_ms), pg_catalog.max(e.duration_ms),
                pg_catalog.max(e.at), pg_catalog.count(*) FILTER (WHERE e.duration_ms = 0),
                pg_catalog.array_agg((b.bucket << 15) | 1) FILTER (WHERE e.duration_ms > 0)
            FROM events AS e
            -- The bucket of _histogram_bucket, computed inline where the logarithm is trusted (docs/HISTOGRAM.md).
            CROSS JOIN LATERAL (
                SELECT CASE WHEN e.duration_ms > 0 THEN pg_catalog.ln(e.duration_ms) / 0.020000666706669435 END
            ) AS l (x)
            CROSS JOIN LATERAL (
                SELECT CASE
                    WHEN pg_catalog.ceil(l.x) - l.x > 1e-6 AND l.x - (pg_catalog.ceil(l.x) - 1) > 1e-6
                        THEN pg_catalog.ceil(l.x)::int
                    WHEN e.duration_ms > 0 THEN pgmetrics._histogram_bucket(e.duration_ms)
                END
            ) AS b (bucket)
            GROUP BY e.operation, e.period_start
        ) AS x (operation, period_start, n, s, d, lo, hi, t, z, h)
        GROUP BY x.operation, x.period_start
    ),
    -- Distinct operations are bounded per UTC hour as routes are, the rest counted under operation '__overflow__'.
    fresh AS MATERIALIZED (
        SELECT
            h.operation, h.period_start,
            pg_catalog.row_number() OVER (PARTITION BY h.period_start ORDER BY h.n DESC, h.operation) AS rank
        FROM hours AS h
        WHERE
            h.operation <> '__overflow__'
            AND NOT EXISTS (
                SELECT FROM pgmetrics.operation_metrics AS m
                WHERE m.operation = h.operation AND m.period_start = h.period_start
            )
    ),
    room AS MATERIALIZED (
        SELECT
            p.period_start,
            v_max_keys - (
                SELECT pg_catalog.count(*) FROM pgmetrics.operation_metrics AS m WHERE m.period_start = p.period_start
            ) AS keys
        FROM (SELECT DISTINCT f.period_start FROM fresh AS f) AS p
    ),
    overflowed AS MATERIALIZED (
        SELECT f.operation, f.period_start
        FROM fresh AS f
        INNER JOIN room AS r ON r.period_start = f.period_start
        WHERE f.rank > r.keys
    ),
    bounded AS MATERIALIZED (
        SELECT h.operation, h.period_start, h.n, h.s, h.d, h.lo, h.hi, h.t, h.z, h.parts, h.h
        FROM hours AS h
        WHERE NOT EXISTS (
            SELECT FROM overflowed AS o
            WHERE o.period_start = h.period_start AND (o.operation = h.operation OR h.operation = '__overflow__')
        )
        UNION ALL
        SELECT
            '__overflow__', h.period_start, pg_catalog.sum(h.n)::bigint, pg_catalog.sum(h.s)::bigint,
            pg_catalog.sum(h.d), pg_catalog.min(h.lo), pg_catalog.max(h.hi), pg_catalog.max(h.t),
            pg_catalog.sum(h.z)::bigint, pg_catalog.sum(h.parts)::bigint, pgmetrics._histogram_concat(h.h)
        FROM hours AS h
        WHERE EXISTS (
            SELECT FROM overflowed AS o
            WHERE o.period_start = h.period_start AND (o.operation = h.operation OR h.operation = '__overflow__')
        )
        GROUP BY h.period_start
    ),
    -- The hours going into the rollups: the pending ones that are over, and the stored ones the watermark passes now
    -- (pending data of such an hour is in both: the stored part, then what is added to it).
    feed AS MATERIALIZED (
        SELECT h.operation, h.period_start, h.n, h.s, h.d, h.lo, h.hi, h.t, h.z, h.parts, h.h
        FROM bounded AS h
        WHERE h.period_start < v_to
        UNION ALL
        SELECT
            m.operation, m.period_start, m.total_executions, m.successful, m.total_duration_ms,
            m.min_duration_ms, m.max_duration_ms, m.last_execution_at, m.zero_count, 1, m.duration_histogram
        FROM pgmetrics.operation_metrics AS m
        WHERE m.period_start >= v_from AND m.period_start < v_to
    ),
    -- Hours in the same day of every day tier (UTC and each report zone) form a segment: it starts at the latest of
    -- their days' starts, since no tier's day can end between two hours that share that latest start.
    hour_segments AS MATERIALIZED (
        SELECT f.period_start, pg_catalog.max(pg_catalog.date_trunc('day', f.period_start, t.zone)) AS segment_start
        FROM (SELECT DISTINCT f.period_start FROM feed AS f) AS f
        CROSS JOIN tiers AS t
        WHERE t.grain = 'day'
        GROUP BY f.period_start
    ),
    -- Each segment of a key, its hours merged once: every rollup row holding it then adds one part, not one per hour.
    segments AS MATERIALIZED (
        SELECT
            g.operation, g.segment_start, g.n, g.s, g.d, g.lo, g.hi, g.t, g.z,
            CASE WHEN g.parts = 1 THEN g.h ELSE pgmetrics._histogram_merge(g.h, NULL) END AS h
        FROM (
            SELECT
                f.operation, s.segment_start, pg_catalog.sum(f.n)::bigint AS n,
                pg_catalog.sum(f.s)::bigint AS s, pg_catalog.sum(f.d) AS d, pg_catalog.min(f.lo) AS lo,
                pg_catalog.max(f.hi) AS hi, pg_catalog.max(f.t) AS t, pg_catalog.sum(f.z)::bigint AS z,
                pg_catalog.sum(f.parts) AS parts, pgmetrics._histogram_concat(f.h) AS h
            FROM feed AS f
            INNER JOIN hour_segments AS s ON s.period_start = f.period_start
            GROUP BY f.operation, s.segment_start
        ) AS g
    ),
    -- Every row this fold writes, with what it adds: an hour's pending parts, a rollup row's segments.
    targets AS MATERIALIZED (
        SELECT
            'hour' AS grain, 'UTC' AS zone, h.operation, h.period_start, h.n, h.s, h.d, h.lo, h.hi, h.t, h.z,
            h.h
        FROM bounded AS h
        UNION ALL
        SELECT
            t.grain, t.zone, g.operation, p.period_start, pg_catalog.sum(g.n)::bigint,
            pg_catalog.sum(g.s)::bigint, pg_catalog.sum(g.d), pg_catalog.min(g.lo), pg_catalog.max(g.hi),
            pg_catalog.max(g.t), pg_catalog.sum(g.z)::bigint, pgmetrics._histogram_concat(g.h)
        FROM segments AS g
        CROSS JOIN tiers AS t
        CROSS JOIN LATERAL (SELECT pg_catalog.date_trunc(t.grain, g.segment_start, t.zone)) AS p (period_start)
        GROUP BY t.grain, t.zone, g.operation, p.period_start
    ),
    -- Stored + pending, for each row written: one merge of its histogram, on its own and in memory.
    totals AS MATERIALIZED (
        SELECT
            k.grain, k.zone, k.operation, k.period_start,
            k.n + COALESCE(m.total_executions, r.total_executions, 0) AS n,
            k.s + COALESCE(m.successful, r.successful, 0) AS s,
            k.d + COALESCE(m.total_duration_ms, r.total_duration_ms, 0) AS d,
            LEAST(k.lo, m.min_duration_ms, r.min_duration_ms) AS lo,
            GREATEST(k.hi, m.max_duration_ms, r.max_duration_ms) AS hi,
            GREATEST(k.t, m.last_execution_at, r.last_execution_at) AS t,
            k.z + COALESCE(m.zero_count, r.zero_count, 0) AS z,
            k.h || COALESCE(m.duration_histogram, r.duration_histogram) AS h
        FROM targets AS k
        LEFT JOIN pgmetrics.operation_metrics AS m
            ON k.grain = 'hour' AND m.operation = k.operation AND m.period_start = k.period_start
        LEFT JOIN pgmetrics.operation_metrics_rollup AS r
            ON k.grain <> 'hour' AND r.operation = k.operation AND r.grain = k.grain
            AND r.zone = k.zone AND r.period_start = k.period_start
    ),
    merged AS MATERIALIZED (
        SELECT o.*, q.histogram, q.split, q.b50, q.b95, q.b99
        FROM totals AS o
        CROSS JOIN LATERAL (
            SELECT
                GREATEST(1, pg_catalog.ceil(0.5 * o.n::double precision)),
                GREATEST(1, pg_catalog.ceil(0.95 * o.n::double precision)),
                GREATEST(1, pg_catalog.ceil(0.99 * o.n::double precision))
        ) AS r (r50, r95, r99)
        /*
         * One grouping per row, of its few hundred elements, in memory; its running count, after the zeros, gives
         * the nearest ranks: the first bucket whose count reaches each. The aggregate reads the window's output in
         * bucket order, so the elements ascend without a sort per row. Counts in double precision: exact to 2^53,
         * and far cheaper per element than numeric. A count above 32767 takes several elements (_histogram_merge).
         */
        CROSS JOIN LATERAL (
            SELECT
                pg_catalog.array_agg((w.bucket << 15) | w.c::int) FILTER (WHERE w.c <= 32767) AS histogram,
                pg_catalog.bool_or(w.c > 32767) AS split,
                pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= r.r50) AS b50,
                pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= r.r95) AS b95,
                pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= r.r99) AS b99
            FROM (
                SELECT
                    g.bucket, g.c, o.z + pg_catalog.sum(g.c) OVER (ORDER BY g.bucket) AS seen
                FROM (
                    SELECT e >> 15 AS bucket, pg_catalog.sum(e & 32767)::double precision AS c
                    FROM pg_catalog.unnest(o.h) AS e
                    GROUP BY 1
                ) AS g
            ) AS w
        ) AS q
        WHERE pg_catalog.cardinality(o.h) > 1
        UNION ALL
        -- One element (a key and hour of a single event, say) is its own histogram: nothing to merge.
        SELECT o.*, o.h, FALSE, o.h[1] >> 15, o.h[1] >> 15, o.h[1] >> 15
        FROM totals AS o
        WHERE pg_catalog.cardinality(o.h) <= 1
    ),
    result AS MATERIALIZED (
        SELECT
            o.grain, o.zone, o.operation, o.period_start, o.n, o.s, o.d, o.lo, o.hi, o.t, o.z,
            CASE WHEN o.split THEN pgmetrics._histogram_merge(o.h, NULL) ELSE COALESCE(o.histogram, '{}') END
                AS histogram,
            ARRAY[
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.5 * o.n)) <= o.z THEN 0
                    WHEN o.b50 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        o.b50 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi),
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.95 * o.n)) <= o.z THEN 0
                    WHEN o.b95 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        o.b95 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi),
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.99 * o.n)) <= o.z THEN 0
                    WHEN o.b99 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        o.b99 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi)
            ]::double precision [] AS quantiles
        FROM merged AS o
    ),
    hourly AS (
        INSERT INTO pgmetrics.operation_metrics AS m (
            operation, period_start, period_end, total_executions, successful, failed, total_duration_ms,
            min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram, duration_quantiles
        )
        SELECT
            r.operation, r.period_start, r.period_start + INTERVAL '1 hour', r.n, r.s, r.n - r.s, r.d, r.lo,
            r.hi, r.t, r.z, r.histogram, r.quantiles
        FROM result AS r
        WHERE r.grain = 'hour'
        ON CONFLICT ON CONSTRAINT operation_metrics_pkey DO UPDATE SET
            total_executions = excluded.total_executions,
            successful = excluded.successful,
            failed = excluded.failed,
            total_duration_ms = excluded.total_duration_ms,
            min_duration_ms = excluded.min_duration_ms,
            max_duration_ms = excluded.max_duration_ms,
            last_execution_at = excluded.last_execution_at,
            zero_count = excluded.zero_count,
            duration_histogram = excluded.duration_histogram,
            duration_quantiles = excluded.duration_quantiles,
            updated_at = pg_catalog.now()
    ),
    rollups AS (
        INSERT INTO pgmetrics.operation_metrics_rollup AS m (
            operation, grain, zone, period_start, total_executions, successful, failed, total_duration_ms,
            min_duration_ms, max_duration_ms, last_execution_at, zero_count, duration_histogram, duration_quantiles
        )
        SELECT
            r.operation, r.grain, r.zone, r.period_start, r.n, r.s, r.n - r.s, r.d, r.lo, r.hi, r.t, r.z,
            r.histogram, r.quantiles
        FROM result AS r
        WHERE r.grain <> 'hour'
        ON CONFLICT ON CONSTRAINT operation_metrics_rollup_pkey DO UPDATE SET
            total_executions = excluded.total_executions,
            successful = excluded.successful,
            failed = excluded.failed,
            total_duration_ms = excluded.total_duration_ms,
            min_duration_ms = excluded.min_duration_ms,
            max_duration_ms = excluded.max_duration_ms,
            last_execution_at = excluded.last_execution_at,
            zero_count = excluded.zero_count,
            duration_histogram = excluded.duration_histogram,
            duration_quantiles = excluded.duration_quantiles,
            updated_at = pg_catalog.now()
    )
    SELECT
        (SELECT pg_catalog.count(*) FROM cells), (SELECT pg_catalog.count(*) FROM events),
        (SELECT pg_catalog.count(*) FROM overflowed)
    INTO v_operation_cells, v_operation_events, v_operation_overflowed;

    UPDATE pgmetrics.rollup_watermark AS w SET rolled_until = v_to WHERE w.rolled_until < v_to;

    /*
     * Hours of days without a partition went to the default partitions, so no write fails for want of one. Days
     * among those kept, up to 3 days ahead, get their partitions now, their rows moved out of the default ones, so
     * that retention drops them whole; a backfill of years stays in the default partition (and expires from it)
     * rather than build a partition per day. This comes last because attaching a partition locks the default one
     * until the commit: done first, it would stall readers of the hourly tier for the whole fold.
     */
    PERFORM pgmetrics._add_detail_partitions(ARRAY(
        SELECT pg_catalog.date_trunc('day', m.period_start, 'UTC')
        FROM pgmetrics.route_metrics_default AS m
        WHERE m.period_start >= v_first_day AND m.period_start < v_end
        UNION
        SELECT pg_catalog.date_trunc('day', m.period_start, 'UTC')
        FROM pgmetrics.operation_metrics_default AS m
        WHERE m.period_start >= v_first_day AND m.period_start < v_end
    ));

    RETURN pg_catalog.jsonb_build_object(
        'route_cells_folded', v_route_cells, 'route_events_folded', v_route_events,
        'operation_cells_folded', v_operation_cells, 'operation_events_folded', v_operation_events,
        'route_keys_overflowed', v_route_overflowed, 'operation_keys_overflowed', v_operation_overflowed
    );
END
$$;

COMMENT ON FUNCTION pgmetrics._fold_events(boolean, timestamptz) IS
'Body of fold_events: moves every pending cell and event into the hourly tier, and into the rollups those of the '
'hours before roll_until (rounded down to its UTC hour), together with the stored hourly rows of the hours between '
'the previous watermark and roll_until; then moves the watermark (rollup_watermark) to roll_until. An hour stores at '
'most max_keys_per_hour new keys of each kind, the busiest first: the pending data of the others goes to route '
'''__overflow__'' (its method kept) or operation ''__overflow__''; a stored key, and the overflow key, always take '
'more. Raises 22004 for a NULL wait or roll_until. For the schema owner: fold_events and run_retention call it.';

REVOKE ALL ON FUNCTION pgmetrics._fold_events(boolean, timestamptz) FROM public;

COMMIT;
