-- Revert pgmetrics:function__fold_events from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._fold_events(boolean, timestamptz);

CREATE FUNCTION pgmetrics._fold_events(wait boolean, roll_until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
-- The groupings below hold every pending histogram element: spilling them to disk costs more than this memory.
SET work_mem = '256MB'
-- With the hourly tier split into a partition per day, the estimated cost of these statements passes jit_above_cost
-- and JIT compiles the expressions of every partition: seconds per call, even with nothing pending.
SET jit = off
-- Sorted groupings degrade gradually past work_mem; hashed ones, chosen on the planner's guess of what is pending,
-- spill their batches again and again: a bulk of full hours folded several times slower.
SET enable_hashagg = off
AS $$
DECLARE
    v_route_cells bigint;
    v_route_events bigint;
    v_operation_cells bigint;
    v_operation_events bigint;
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
     * is replaced by stored + pending, its histogram merged once per fold and set-based, its quantiles computed
     * from the merged buckets. Only this function writes those tables, under the fold row lock, so the values read
     * at the start of the statement are the ones it replaces.
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
        SELECT t.tier, t.grain, 'UTC' AS zone
        FROM (VALUES (0, 'hour'), (1, 'day'), (2, 'week'), (3, 'month')) AS t (tier, grain)
        UNION ALL
        SELECT 3 + pg_catalog.row_number() OVER (ORDER BY z.zone), 'day', z.zone FROM pgmetrics.report_zones AS z
    ),
    -- What the pending cells and events add to each key and UTC hour, numbered so that the work per histogram
    -- element below groups and joins on integers.
    hours AS MATERIALIZED (
        SELECT
            pg_catalog.row_number() OVER () AS hour_id, x.route, x.method, x.period_start,
            pg_catalog.sum(x.n)::bigint AS n, pg_catalog.sum(x.s)::bigint AS s, pg_catalog.sum(x.d) AS d,
            pg_catalog.min(x.lo) AS lo, pg_catalog.max(x.hi) AS hi, pg_catalog.max(x.t) AS t,
            pg_catalog.sum(x.z)::bigint AS z
        FROM (
            SELECT
                c.route, c.method, c.period_start, c.total_requests, c.successful, c.total_duration_ms,
                c.min_duration_ms, c.max_duration_ms, c.last_request_at, c.zero_count
            FROM cells AS c
            UNION ALL
            SELECT
                e.route, e.method, e.period_start, 1, e.success::int, e.duration_ms, e.duration_ms, e.duration_ms,
                e.at, (e.duration_ms = 0)::int
            FROM events AS e
        ) AS x (route, method, period_start, n, s, d, lo, hi, t, z)
        GROUP BY x.route, x.method, x.period_start
    ),
    -- The stored hours the watermark passes now, numbered after the pending ones: they go to the rollups only.
    rolled AS MATERIALIZED (
        SELECT
            (SELECT pg_catalog.count(*) FROM hours) + pg_catalog.row_number() OVER () AS hour_id, m.route, m.method,
            m.period_start, m.total_requests AS n, m.successful AS s, m.total_duration_ms AS d,
            m.min_duration_ms AS lo, m.max_duration_ms AS hi, m.last_request_at AS t, m.zero_count AS z,
            m.duration_histogram AS histogram
        FROM pgmetrics.route_metrics AS m
        WHERE m.period_start >= v_from AND m.period_start < v_to
    ),
    -- Every key with pending or rolled hours, numbered: the groupings below sort integers rather than text.
    keys AS MATERIALIZED (
        SELECT pg_catalog.row_number() OVER () AS key_id, k.route, k.method
        FROM (SELECT h.route, h.method FROM hours AS h UNION SELECT r.route, r.method FROM rolled AS r) AS k
    ),
    -- Each distinct hour in every tier: the hour itself and, for each rollup, the period holding it; period_id
    -- numbers the (tier, period) pairs.
    periods AS MATERIALIZED (
        SELECT p.*, pg_catalog.dense_rank() OVER (ORDER BY p.tier, p.target_start) AS period_id
        FROM (
            SELECT
                h.period_start, t.tier, t.grain,
                CASE
                    WHEN t.grain = 'hour' THEN h.period_start
                    ELSE pg_catalog.date_trunc(t.grain, h.period_start, t.zone)
                END AS target_start
            FROM (SELECT h.period_start FROM hours AS h UNION SELECT r.period_start FROM rolled AS r) AS h
            CROSS JOIN tiers AS t
        ) AS p
    ),
    -- Hours in the same day of every day tier (UTC and each report zone) form a segment: it starts at the latest of
    -- their days' starts, since no tier's day can end between two hours that share that latest start.
    segments AS MATERIALIZED (
        SELECT s.period_start, pg_catalog.dense_rank() OVER (ORDER BY s.segment_start) AS segment_no
        FROM (
            SELECT p.period_start, pg_catalog.max(p.target_start) AS segment_start
            FROM periods AS p
            WHERE p.grain = 'day'
            GROUP BY p.period_start
        ) AS s
    ),
    -- Every pending or rolled hour with its key and, when it goes into the rollups, its segment of that key.
    hour_keys AS MATERIALIZED (
        SELECT
            h.pending, h.hour_id, h.route, h.method, h.period_start, k.key_id,
            CASE
                WHEN h.period_start < v_to
                    THEN (k.key_id - 1) * (SELECT pg_catalog.max(q.segment_no) FROM segments AS q) + g.segment_no
            END AS segment_id,
            h.n, h.s, h.d, h.lo, h.hi, h.t, h.z
        FROM (
            SELECT TRUE AS pending, h.hour_id, h.route, h.method, h.period_start, h.n, h.s, h.d, h.lo, h.hi, h.t, h.z
            FROM hours AS h
            UNION ALL
            SELECT FALSE, r.hour_id, r.route, r.method, r.period_start, r.n, r.s, r.d, r.lo, r.hi, r.t, r.z
            FROM rolled AS r
        ) AS h
        INNER JOIN keys AS k ON k.route = h.route AND k.method = h.method
        INNER JOIN segments AS g ON g.period_start = h.period_start
    ),
    -- The buckets of each hour, with its segment: cells and events are joined to their hours before they are
    -- unnested, so no join is made per histogram element.
    hour_buckets AS MATERIALIZED (
        SELECT x.hour_id, x.segment_id, x.bucket, pg_catalog.sum(x.c)::bigint AS c
        FROM (
            SELECT h.hour_id, h.segment_id, u.e >> 15, u.e & 32767
            FROM cells AS c
            INNER JOIN hour_keys AS h
                ON h.pending AND h.route = c.route AND h.method = c.method AND h.period_start = c.period_start
            CROSS JOIN LATERAL pg_catalog.unnest(c.duration_histogram) AS u (e)
            UNION ALL
            -- The bucket of _histogram_bucket, computed inline where the logarithm is trusted (docs/HISTOGRAM.md).
            SELECT
                h.hour_id,
                h.segment_id,
                CASE
                    WHEN pg_catalog.ceil(l.x) - l.x > 1e-6 AND l.x - (pg_catalog.ceil(l.x) - 1) > 1e-6
                        THEN pg_catalog.ceil(l.x)::int
                    ELSE pgmetrics._histogram_bucket(e.duration_ms)
                END,
                1
            FROM events AS e
            INNER JOIN hour_keys AS h
                ON h.pending AND h.route = e.route AND h.method = e.method AND h.period_start = e.period_start
            CROSS JOIN LATERAL (
                SELECT CASE WHEN e.duration_ms > 0 THEN pg_catalog.ln(e.duration_ms) / 0.020000666706669435 END
            ) AS l (x)
            WHERE e.duration_ms > 0
            UNION ALL
            SELECT h.hour_id, h.segment_id, u.e >> 15, u.e & 32767
            FROM rolled AS r
            INNER JOIN hour_keys AS h ON h.hour_id = r.hour_id
            CROSS JOIN LATERAL pg_catalog.unnest(r.histogram) AS u (e)
        ) AS x (hour_id, segment_id, bucket, c)
        GROUP BY x.hour_id, x.segment_id, x.bucket
    ),
    -- Each hour in every tier. target_id numbers the rows the fold writes without sorting every hour in every tier:
    -- an hour's own row takes the hour's number, the others follow, numbered by key and (tier, period).
    hour_tiers AS MATERIALIZED (
        SELECT
            h.hour_id, h.key_id, h.segment_id, p.tier, p.grain, p.target_start,
            CASE
                WHEN p.grain = 'hour' THEN h.hour_id
                ELSE (SELECT pg_catalog.max(q.hour_id) FROM hour_keys AS q)
                    + (h.key_id - 1) * (SELECT pg_catalog.max(q.period_id) FROM periods AS q) + p.period_id
            END AS target_id,
            h.n, h.s, h.d, h.lo, h.hi, h.t, h.z
        FROM hour_keys AS h
        INNER JOIN periods AS p ON p.period_start = h.period_start
        WHERE (p.grain = 'hour' AND h.pending) OR (p.grain <> 'hour' AND h.period_start < v_to)
    ),
    targets AS MATERIALIZED (
        SELECT x.target_id, k.route, k.method, t.grain, t.zone, x.period_start, x.n, x.s, x.d, x.lo, x.hi, x.t, x.z
        FROM (
            SELECT
                h.target_id, h.key_id, h.tier, h.target_start AS period_start,
                pg_catalog.sum(h.n)::bigint AS n, pg_catalog.sum(h.s)::bigint AS s, pg_catalog.sum(h.d) AS d,
                pg_catalog.min(h.lo) AS lo, pg_catalog.max(h.hi) AS hi, pg_catalog.max(h.t) AS t,
                pg_catalog.sum(h.z)::bigint AS z
            FROM hour_tiers AS h
            GROUP BY h.target_id, h.key_id, h.tier, h.target_start
        ) AS x
        INNER JOIN keys AS k ON k.key_id = x.key_id
        INNER JOIN tiers AS t ON t.tier = x.tier
    ),
    stored AS MATERIALIZED (
        SELECT
            k.target_id, m.total_requests, m.successful, m.total_duration_ms, m.min_duration_ms, m.max_duration_ms,
            m.last_request_at, m.zero_count, m.duration_histogram
        FROM targets AS k
        INNER JOIN pgmetrics.route_metrics AS m
            ON m.route = k.route AND m.method = k.method AND k.grain = 'hour' AND m.period_start = k.period_start
        UNION ALL
        SELECT
            k.target_id, r.total_requests, r.successful, r.total_duration_ms, r.min_duration_ms, r.max_duration_ms,
            r.last_request_at, r.zero_count, r.duration_histogram
        FROM targets AS k
        INNER JOIN pgmetrics.route_metrics_rollup AS r
            ON r.route = k.route AND r.method = k.method AND r.grain = k.grain AND r.zone = k.zone
            AND r.period_start = k.period_start
    ),
    totals AS MATERIALIZED (
        SELECT
            k.target_id, k.route, k.method, k.grain, k.zone, k.period_start, k.n + COALESCE(s.total_requests, 0) AS n,
            k.s + COALESCE(s.successful, 0) AS s, k.d + COALESCE(s.total_duration_ms, 0) AS d,
            LEAST(k.lo, s.min_duration_ms) AS lo, GREATEST(k.hi, s.max_duration_ms) AS hi,
            GREATEST(k.t, s.last_request_at) AS t, k.z + COALESCE(s.zero_count, 0) AS z
        FROM targets AS k
        LEFT JOIN stored AS s ON s.target_id = k.target_id
    ),
    -- What is pending, per day written and bucket. Hours feed their hour, their buckets as grouped; the hours going
    -- into the rollups are summed once per segment, and each segment feeds its UTC day and local days; weeks and
    -- months are fed by the UTC days. So a bulk of hours is grouped twice, not once per tier. Counts are summed in
    -- double precision: exact to 2^53, and cheaper per group than the numeric sum of bigint.
    segment_buckets AS MATERIALIZED (
        SELECT b.segment_id, b.bucket, pg_catalog.sum(b.c::double precision) AS c
        FROM hour_buckets AS b
        WHERE b.segment_id IS NOT NULL
        GROUP BY b.segment_id, b.bucket
    ),
    segment_days AS (
        SELECT DISTINCT k.segment_id, k.target_id FROM hour_tiers AS k WHERE k.grain = 'day'
    ),
    pending AS MATERIALIZED (
        SELECT l.target_id, b.bucket, pg_catalog.sum(b.c)::bigint AS c
        FROM segment_buckets AS b
        INNER JOIN segment_days AS l ON l.segment_id = b.segment_id
        GROUP BY l.target_id, b.bucket
    ),
    day_links AS (
        SELECT DISTINCT d.target_id AS day_id, u.target_id AS up_id
        FROM hour_tiers AS d
        INNER JOIN hour_tiers AS u ON u.hour_id = d.hour_id AND u.grain IN ('week', 'month')
        WHERE d.tier = 1
    ),
    -- The merged histograms, per row written and bucket: the stored elements and the pending ones in one grouping.
    merged AS MATERIALIZED (
        SELECT x.target_id, x.bucket, pg_catalog.sum(x.c::double precision)::bigint AS c
        FROM (
            SELECT b.hour_id, b.bucket, b.c
            FROM hour_buckets AS b
            WHERE b.hour_id <= (SELECT pg_catalog.count(*) FROM hours)
            UNION ALL
            SELECT p.target_id, p.bucket, p.c
            FROM pending AS p
            UNION ALL
            SELECT l.up_id, p.bucket, p.c
            FROM pending AS p
            INNER JOIN day_links AS l ON l.day_id = p.target_id
            UNION ALL
            SELECT s.target_id, u.e >> 15, u.e & 32767
            FROM stored AS s CROSS JOIN LATERAL pg_catalog.unnest(s.duration_histogram) AS u (e)
        ) AS x (target_id, bucket, c)
        GROUP BY x.target_id, x.bucket
        HAVING pg_catalog.sum(x.c::double precision) > 0
    ),
    -- One sort of the merged buckets gives both the packed histogram and the nearest ranks: the first bucket whose
    -- running count, after the zeros, reaches each. The aggregate reads the window's output in bucket order, so the
    -- elements ascend without a sort per row (an ORDER BY in array_agg would sort each histogram again).
    summed AS MATERIALIZED (
        SELECT
            w.target_id,
            pg_catalog.array_agg((w.bucket << 15) | w.c::int) FILTER (WHERE w.c <= 32767)
                AS histogram,
            pg_catalog.bool_or(w.c > 32767) AS split,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= w.r50) AS b50,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= w.r95) AS b95,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= w.r99) AS b99
        FROM (
            -- In double precision: exact to 2^53, and far cheaper per element than numeric.
            SELECT
                m.target_id, m.bucket, m.c,
                o.z::double precision
                + pg_catalog.sum(m.c::double precision) OVER (PARTITION BY m.target_id ORDER BY m.bucket) AS seen,
                GREATEST(1, pg_catalog.ceil(0.5 * o.n::double precision)) AS r50,
                GREATEST(1, pg_catalog.ceil(0.95 * o.n::double precision)) AS r95,
                GREATEST(1, pg_catalog.ceil(0.99 * o.n::double precision)) AS r99
            FROM merged AS m
            INNER JOIN totals AS o ON o.target_id = m.target_id
        ) AS w
        GROUP BY w.target_id
    ),
    -- The rare histograms holding a count above 32767: it takes several elements of its bucket, the remainder first.
    split AS (
        SELECT p.target_id, pg_catalog.array_agg(p.element ORDER BY p.element) AS histogram
        FROM (
            SELECT m.target_id, (m.bucket << 15) | m.c::int
            FROM merged AS m
            INNER JOIN summed AS s ON s.target_id = m.target_id AND s.split
            WHERE m.c <= 32767
            UNION ALL
            SELECT
                m.target_id,
                (m.bucket << 15) | CASE WHEN i.i = 0 THEN (m.c - 32767 * ((m.c - 1) / 32767))::int ELSE 32767 END
            FROM merged AS m
            CROSS JOIN LATERAL pg_catalog.generate_series(0::bigint, (m.c - 1) / 32767) AS i (i)
            WHERE m.c > 32767
        ) AS p (target_id, element)
        GROUP BY p.target_id
    ),
    result AS MATERIALIZED (
        SELECT
            o.route, o.method, o.grain, o.zone, o.period_start, o.n, o.s, o.d, o.lo, o.hi, o.t, o.z,
            COALESCE(x.histogram, q.histogram, '{}') AS histogram,
            -- The value 2 g^k / (g + 1) of bucket k, or 0 for a rank among the zeros, clamped to [min, max].
            ARRAY[
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.5 * o.n)) <= o.z THEN 0
                    WHEN q.b50 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        q.b50 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi),
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.95 * o.n)) <= o.z THEN 0
                    WHEN q.b95 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        q.b95 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi),
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.99 * o.n)) <= o.z THEN 0
                    WHEN q.b99 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        q.b99 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi)
            ]::double precision [] AS quantiles
        FROM totals AS o
        LEFT JOIN summed AS q ON q.target_id = o.target_id
        LEFT JOIN split AS x ON x.target_id = o.target_id
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
    SELECT (SELECT pg_catalog.count(*) FROM cells), (SELECT pg_catalog.count(*) FROM events)
    INTO v_route_cells, v_route_events;

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
        SELECT t.tier, t.grain, 'UTC' AS zone
        FROM (VALUES (0, 'hour'), (1, 'day'), (2, 'week'), (3, 'month')) AS t (tier, grain)
        UNION ALL
        SELECT 3 + pg_catalog.row_number() OVER (ORDER BY z.zone), 'day', z.zone FROM pgmetrics.report_zones AS z
    ),
    -- What the pending cells and events add to each key and UTC hour, numbered so that the work per histogram
    -- element below groups and joins on integers.
    hours AS MATERIALIZED (
        SELECT
            pg_catalog.row_number() OVER () AS hour_id, x.operation, x.period_start,
            pg_catalog.sum(x.n)::bigint AS n, pg_catalog.sum(x.s)::bigint AS s, pg_catalog.sum(x.d) AS d,
            pg_catalog.min(x.lo) AS lo, pg_catalog.max(x.hi) AS hi, pg_catalog.max(x.t) AS t,
            pg_catalog.sum(x.z)::bigint AS z
        FROM (
            SELECT
                c.operation, c.period_start, c.total_executions, c.successful, c.total_duration_ms,
                c.min_duration_ms, c.max_duration_ms, c.last_execution_at, c.zero_count
            FROM cells AS c
            UNION ALL
            SELECT
                e.operation, e.period_start, 1, e.success::int, e.duration_ms, e.duration_ms, e.duration_ms,
                e.at, (e.duration_ms = 0)::int
            FROM events AS e
        ) AS x (operation, period_start, n, s, d, lo, hi, t, z)
        GROUP BY x.operation, x.period_start
    ),
    -- The stored hours the watermark passes now, numbered after the pending ones: they go to the rollups only.
    rolled AS MATERIALIZED (
        SELECT
            (SELECT pg_catalog.count(*) FROM hours) + pg_catalog.row_number() OVER () AS hour_id, m.operation,
            m.period_start, m.total_executions AS n, m.successful AS s, m.total_duration_ms AS d,
            m.min_duration_ms AS lo, m.max_duration_ms AS hi, m.last_execution_at AS t, m.zero_count AS z,
            m.duration_histogram AS histogram
        FROM pgmetrics.operation_metrics AS m
        WHERE m.period_start >= v_from AND m.period_start < v_to
    ),
    -- Every key with pending or rolled hours, numbered: the groupings below sort integers rather than text.
    keys AS MATERIALIZED (
        SELECT pg_catalog.row_number() OVER () AS key_id, k.operation
        FROM (SELECT h.operation FROM hours AS h UNION SELECT r.operation FROM rolled AS r) AS k
    ),
    -- Each distinct hour in every tier: the hour itself and, for each rollup, the period holding it; period_id
    -- numbers the (tier, period) pairs.
    periods AS MATERIALIZED (
        SELECT p.*, pg_catalog.dense_rank() OVER (ORDER BY p.tier, p.target_start) AS period_id
        FROM (
            SELECT
                h.period_start, t.tier, t.grain,
                CASE
                    WHEN t.grain = 'hour' THEN h.period_start
                    ELSE pg_catalog.date_trunc(t.grain, h.period_start, t.zone)
                END AS target_start
            FROM (SELECT h.period_start FROM hours AS h UNION SELECT r.period_start FROM rolled AS r) AS h
            CROSS JOIN tiers AS t
        ) AS p
    ),
    -- Hours in the same day of every day tier (UTC and each report zone) form a segment: it starts at the latest of
    -- their days' starts, since no tier's day can end between two hours that share that latest start.
    segments AS MATERIALIZED (
        SELECT s.period_start, pg_catalog.dense_rank() OVER (ORDER BY s.segment_start) AS segment_no
        FROM (
            SELECT p.period_start, pg_catalog.max(p.target_start) AS segment_start
            FROM periods AS p
            WHERE p.grain = 'day'
            GROUP BY p.period_start
        ) AS s
    ),
    -- Every pending or rolled hour with its key and, when it goes into the rollups, its segment of that key.
    hour_keys AS MATERIALIZED (
        SELECT
            h.pending, h.hour_id, h.operation, h.period_start, k.key_id,
            CASE
                WHEN h.period_start < v_to
                    THEN (k.key_id - 1) * (SELECT pg_catalog.max(q.segment_no) FROM segments AS q) + g.segment_no
            END AS segment_id,
            h.n, h.s, h.d, h.lo, h.hi, h.t, h.z
        FROM (
            SELECT TRUE AS pending, h.hour_id, h.operation, h.period_start, h.n, h.s, h.d, h.lo, h.hi, h.t, h.z
            FROM hours AS h
            UNION ALL
            SELECT FALSE, r.hour_id, r.operation, r.period_start, r.n, r.s, r.d, r.lo, r.hi, r.t, r.z
            FROM rolled AS r
        ) AS h
        INNER JOIN keys AS k ON k.operation = h.operation
        INNER JOIN segments AS g ON g.period_start = h.period_start
    ),
    -- The buckets of each hour, with its segment: cells and events are joined to their hours before they are
    -- unnested, so no join is made per histogram element.
    hour_buckets AS MATERIALIZED (
        SELECT x.hour_id, x.segment_id, x.bucket, pg_catalog.sum(x.c)::bigint AS c
        FROM (
            SELECT h.hour_id, h.segment_id, u.e >> 15, u.e & 32767
            FROM cells AS c
            INNER JOIN hour_keys AS h ON h.pending AND h.operation = c.operation AND h.period_start = c.period_start
            CROSS JOIN LATERAL pg_catalog.unnest(c.duration_histogram) AS u (e)
            UNION ALL
            -- The bucket of _histogram_bucket, computed inline where the logarithm is trusted (docs/HISTOGRAM.md).
            SELECT
                h.hour_id,
                h.segment_id,
                CASE
                    WHEN pg_catalog.ceil(l.x) - l.x > 1e-6 AND l.x - (pg_catalog.ceil(l.x) - 1) > 1e-6
                        THEN pg_catalog.ceil(l.x)::int
                    ELSE pgmetrics._histogram_bucket(e.duration_ms)
                END,
                1
            FROM events AS e
            INNER JOIN hour_keys AS h ON h.pending AND h.operation = e.operation AND h.period_start = e.period_start
            CROSS JOIN LATERAL (
                SELECT CASE WHEN e.duration_ms > 0 THEN pg_catalog.ln(e.duration_ms) / 0.020000666706669435 END
            ) AS l (x)
            WHERE e.duration_ms > 0
            UNION ALL
            SELECT h.hour_id, h.segment_id, u.e >> 15, u.e & 32767
            FROM rolled AS r
            INNER JOIN hour_keys AS h ON h.hour_id = r.hour_id
            CROSS JOIN LATERAL pg_catalog.unnest(r.histogram) AS u (e)
        ) AS x (hour_id, segment_id, bucket, c)
        GROUP BY x.hour_id, x.segment_id, x.bucket
    ),
    -- Each hour in every tier. target_id numbers the rows the fold writes without sorting every hour in every tier:
    -- an hour's own row takes the hour's number, the others follow, numbered by key and (tier, period).
    hour_tiers AS MATERIALIZED (
        SELECT
            h.hour_id, h.key_id, h.segment_id, p.tier, p.grain, p.target_start,
            CASE
                WHEN p.grain = 'hour' THEN h.hour_id
                ELSE (SELECT pg_catalog.max(q.hour_id) FROM hour_keys AS q)
                    + (h.key_id - 1) * (SELECT pg_catalog.max(q.period_id) FROM periods AS q) + p.period_id
            END AS target_id,
            h.n, h.s, h.d, h.lo, h.hi, h.t, h.z
        FROM hour_keys AS h
        INNER JOIN periods AS p ON p.period_start = h.period_start
        WHERE (p.grain = 'hour' AND h.pending) OR (p.grain <> 'hour' AND h.period_start < v_to)
    ),
    targets AS MATERIALIZED (
        SELECT x.target_id, k.operation, t.grain, t.zone, x.period_start, x.n, x.s, x.d, x.lo, x.hi, x.t, x.z
        FROM (
            SELECT
                h.target_id, h.key_id, h.tier, h.target_start AS period_start,
                pg_catalog.sum(h.n)::bigint AS n, pg_catalog.sum(h.s)::bigint AS s, pg_catalog.sum(h.d) AS d,
                pg_catalog.min(h.lo) AS lo, pg_catalog.max(h.hi) AS hi, pg_catalog.max(h.t) AS t,
                pg_catalog.sum(h.z)::bigint AS z
            FROM hour_tiers AS h
            GROUP BY h.target_id, h.key_id, h.tier, h.target_start
        ) AS x
        INNER JOIN keys AS k ON k.key_id = x.key_id
        INNER JOIN tiers AS t ON t.tier = x.tier
    ),
    stored AS MATERIALIZED (
        SELECT
            k.target_id, m.total_executions, m.successful, m.total_duration_ms, m.min_duration_ms, m.max_duration_ms,
            m.last_execution_at, m.zero_count, m.duration_histogram
        FROM targets AS k
        INNER JOIN pgmetrics.operation_metrics AS m
            ON m.operation = k.operation AND k.grain = 'hour' AND m.period_start = k.period_start
        UNION ALL
        SELECT
            k.target_id, r.total_executions, r.successful, r.total_duration_ms, r.min_duration_ms, r.max_duration_ms,
            r.last_execution_at, r.zero_count, r.duration_histogram
        FROM targets AS k
        INNER JOIN pgmetrics.operation_metrics_rollup AS r
            ON r.operation = k.operation AND r.grain = k.grain AND r.zone = k.zone
            AND r.period_start = k.period_start
    ),
    totals AS MATERIALIZED (
        SELECT
            k.target_id, k.operation, k.grain, k.zone, k.period_start, k.n + COALESCE(s.total_executions, 0) AS n,
            k.s + COALESCE(s.successful, 0) AS s, k.d + COALESCE(s.total_duration_ms, 0) AS d,
            LEAST(k.lo, s.min_duration_ms) AS lo, GREATEST(k.hi, s.max_duration_ms) AS hi,
            GREATEST(k.t, s.last_execution_at) AS t, k.z + COALESCE(s.zero_count, 0) AS z
        FROM targets AS k
        LEFT JOIN stored AS s ON s.target_id = k.target_id
    ),
    -- What is pending, per day written and bucket. Hours feed their hour, their buckets as grouped; the hours going
    -- into the rollups are summed once per segment, and each segment feeds its UTC day and local days; weeks and
    -- months are fed by the UTC days. So a bulk of hours is grouped twice, not once per tier. Counts are summed in
    -- double precision: exact to 2^53, and cheaper per group than the numeric sum of bigint.
    segment_buckets AS MATERIALIZED (
        SELECT b.segment_id, b.bucket, pg_catalog.sum(b.c::double precision) AS c
        FROM hour_buckets AS b
        WHERE b.segment_id IS NOT NULL
        GROUP BY b.segment_id, b.bucket
    ),
    segment_days AS (
        SELECT DISTINCT k.segment_id, k.target_id FROM hour_tiers AS k WHERE k.grain = 'day'
    ),
    pending AS MATERIALIZED (
        SELECT l.target_id, b.bucket, pg_catalog.sum(b.c)::bigint AS c
        FROM segment_buckets AS b
        INNER JOIN segment_days AS l ON l.segment_id = b.segment_id
        GROUP BY l.target_id, b.bucket
    ),
    day_links AS (
        SELECT DISTINCT d.target_id AS day_id, u.target_id AS up_id
        FROM hour_tiers AS d
        INNER JOIN hour_tiers AS u ON u.hour_id = d.hour_id AND u.grain IN ('week', 'month')
        WHERE d.tier = 1
    ),
    -- The merged histograms, per row written and bucket: the stored elements and the pending ones in one grouping.
    merged AS MATERIALIZED (
        SELECT x.target_id, x.bucket, pg_catalog.sum(x.c::double precision)::bigint AS c
        FROM (
            SELECT b.hour_id, b.bucket, b.c
            FROM hour_buckets AS b
            WHERE b.hour_id <= (SELECT pg_catalog.count(*) FROM hours)
            UNION ALL
            SELECT p.target_id, p.bucket, p.c
            FROM pending AS p
            UNION ALL
            SELECT l.up_id, p.bucket, p.c
            FROM pending AS p
            INNER JOIN day_links AS l ON l.day_id = p.target_id
            UNION ALL
            SELECT s.target_id, u.e >> 15, u.e & 32767
            FROM stored AS s CROSS JOIN LATERAL pg_catalog.unnest(s.duration_histogram) AS u (e)
        ) AS x (target_id, bucket, c)
        GROUP BY x.target_id, x.bucket
        HAVING pg_catalog.sum(x.c::double precision) > 0
    ),
    -- One sort of the merged buckets gives both the packed histogram and the nearest ranks: the first bucket whose
    -- running count, after the zeros, reaches each. The aggregate reads the window's output in bucket order, so the
    -- elements ascend without a sort per row (an ORDER BY in array_agg would sort each histogram again).
    summed AS MATERIALIZED (
        SELECT
            w.target_id,
            pg_catalog.array_agg((w.bucket << 15) | w.c::int) FILTER (WHERE w.c <= 32767)
                AS histogram,
            pg_catalog.bool_or(w.c > 32767) AS split,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= w.r50) AS b50,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= w.r95) AS b95,
            pg_catalog.min(w.bucket) FILTER (WHERE w.seen >= w.r99) AS b99
        FROM (
            -- In double precision: exact to 2^53, and far cheaper per element than numeric.
            SELECT
                m.target_id, m.bucket, m.c,
                o.z::double precision
                + pg_catalog.sum(m.c::double precision) OVER (PARTITION BY m.target_id ORDER BY m.bucket) AS seen,
                GREATEST(1, pg_catalog.ceil(0.5 * o.n::double precision)) AS r50,
                GREATEST(1, pg_catalog.ceil(0.95 * o.n::double precision)) AS r95,
                GREATEST(1, pg_catalog.ceil(0.99 * o.n::double precision)) AS r99
            FROM merged AS m
            INNER JOIN totals AS o ON o.target_id = m.target_id
        ) AS w
        GROUP BY w.target_id
    ),
    -- The rare histograms holding a count above 32767: it takes several elements of its bucket, the remainder first.
    split AS (
        SELECT p.target_id, pg_catalog.array_agg(p.element ORDER BY p.element) AS histogram
        FROM (
            SELECT m.target_id, (m.bucket << 15) | m.c::int
            FROM merged AS m
            INNER JOIN summed AS s ON s.target_id = m.target_id AND s.split
            WHERE m.c <= 32767
            UNION ALL
            SELECT
                m.target_id,
                (m.bucket << 15) | CASE WHEN i.i = 0 THEN (m.c - 32767 * ((m.c - 1) / 32767))::int ELSE 32767 END
            FROM merged AS m
            CROSS JOIN LATERAL pg_catalog.generate_series(0::bigint, (m.c - 1) / 32767) AS i (i)
            WHERE m.c > 32767
        ) AS p (target_id, element)
        GROUP BY p.target_id
    ),
    result AS MATERIALIZED (
        SELECT
            o.operation, o.grain, o.zone, o.period_start, o.n, o.s, o.d, o.lo, o.hi, o.t, o.z,
            COALESCE(x.histogram, q.histogram, '{}') AS histogram,
            -- The value 2 g^k / (g + 1) of bucket k, or 0 for a rank among the zeros, clamped to [min, max].
            ARRAY[
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.5 * o.n)) <= o.z THEN 0
                    WHEN q.b50 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        q.b50 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi),
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.95 * o.n)) <= o.z THEN 0
                    WHEN q.b95 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        q.b95 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi),
                LEAST(GREATEST(CASE
                    WHEN GREATEST(1, pg_catalog.ceil(0.99 * o.n)) <= o.z THEN 0
                    WHEN q.b99 * 0.020000666706669435::double precision - 0.010050335853501395 >= 709.782712893384
                        THEN 1.7976931348623157e308
                    ELSE pg_catalog.exp(GREATEST(
                        q.b99 * 0.020000666706669435::double precision - 0.010050335853501395, -708.3964185322641
                    ))
                END, o.lo), o.hi)
            ]::double precision [] AS quantiles
        FROM totals AS o
        LEFT JOIN summed AS q ON q.target_id = o.target_id
        LEFT JOIN split AS x ON x.target_id = o.target_id
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
    SELECT (SELECT pg_catalog.count(*) FROM cells), (SELECT pg_catalog.count(*) FROM events)
    INTO v_operation_cells, v_operation_events;

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
        'operation_cells_folded', v_operation_cells, 'operation_events_folded', v_operation_events
    );
END
$$;

COMMENT ON FUNCTION pgmetrics._fold_events(boolean, timestamptz) IS
'Body of fold_events: moves every pending cell and event into the hourly tier, and into the rollups those of the '
'hours before roll_until (rounded down to its UTC hour), together with the stored hourly rows of the hours between '
'the previous watermark and roll_until; then moves the watermark (rollup_watermark) to roll_until. Raises 22004 for '
'a NULL wait or roll_until. For the schema owner: fold_events and run_retention call it.';

REVOKE ALL ON FUNCTION pgmetrics._fold_events(boolean, timestamptz) FROM public;

-- As alter_functions_pinned_settings left it.
ALTER FUNCTION pgmetrics._fold_events(boolean, timestamptz)
SET timezone = 'UTC' SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres';

COMMIT;
