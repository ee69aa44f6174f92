BEGIN;
SELECT plan(4);

-- The reviewer's reproduction: over five whole UTC months, bucket all counts every event whatever the caller's
-- TimeZone. The months are found in UTC: a month added to a timestamptz in America/New_York ended them at 05:00 UTC.
-- December to April. The start of November (UTC) is 20:00 on October 31 in New York, under daylight saving time; a
-- month later there is 20:00 on November 30 under standard time, 01:00 on December 1 UTC: the month rollup of
-- December was skipped, and only its first day read.
CREATE TEMPORARY TABLE fixture AS
SELECT '2025-12-01 00:00+00'::timestamptz AS start, '2026-05-01 00:00+00'::timestamptz AS "end";

-- One event per hour, at half past: 100 ms in December, 5 ms after, so that p99 is 100 ms only if December counts.
SELECT pgmetrics.record_route_metric(
    '/m', 'GET', TRUE, CASE WHEN h.at < '2026-01-01 00:00+00' THEN 100 ELSE 5 END, h.at
)
FROM fixture AS f
CROSS JOIN LATERAL pg_catalog.generate_series(
    f.start + INTERVAL '30 minutes', f."end" - INTERVAL '1 minute', INTERVAL '1 hour'
) AS h (at);
SELECT pgmetrics.fold_events();

CREATE TEMPORARY TABLE expected AS
SELECT pg_catalog.count(*)::bigint AS n
FROM fixture AS f
CROSS JOIN LATERAL pg_catalog.generate_series(
    f.start + INTERVAL '30 minutes', f."end" - INTERVAL '1 minute', INTERVAL '1 hour'
) AS h (at);

SET TimeZone = 'UTC';
CREATE TEMPORARY TABLE quantile AS
SELECT pgmetrics.route_duration_quantile(0.99, f.start, f."end") AS p99 FROM fixture AS f;
SELECT cmp_ok((SELECT q.p99 FROM quantile AS q), '>', 90::double precision, 'p99 under UTC counts December');
SELECT is(
    (SELECT s.total_requests FROM fixture AS f, pgmetrics.route_metrics_summary(f.start, f."end", 'all') AS s),
    (SELECT e.n FROM expected AS e),
    'bucket all counts every hour of the five months under UTC'
);
SET TimeZone = 'America/New_York';
SELECT is(
    (SELECT s.total_requests FROM fixture AS f, pgmetrics.route_metrics_summary(f.start, f."end", 'all') AS s),
    (SELECT e.n FROM expected AS e),
    'and the same under America/New_York'
);
SELECT is(
    (SELECT pgmetrics.route_duration_quantile(0.99, f.start, f."end") FROM fixture AS f),
    (SELECT q.p99 FROM quantile AS q),
    'route_duration_quantile finds the same months under America/New_York'
);

SELECT * FROM finish();
ROLLBACK;
