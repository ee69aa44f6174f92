BEGIN;
SELECT plan(2);

-- The reviewer's reproduction: over five whole UTC months, bucket all counts every event whatever the caller's
-- TimeZone. The months are found in UTC: a month added to a timestamptz in America/New_York ended them at 05:00 UTC.
-- December to April. The start of November (UTC) is 20:00 on October 31 in New York, under daylight saving time; a
-- month later there is 20:00 on November 30 under standard time, 01:00 on December 1 UTC: the month rollup of
-- December was skipped, and only its first day read.
CREATE TEMPORARY TABLE fixture AS
SELECT '2025-12-01 00:00+00'::timestamptz AS start, '2026-05-01 00:00+00'::timestamptz AS "end";

-- One event per hour, at half past.
SELECT pgmetrics.record_route_metric('/m', 'GET', TRUE, 5, h.at)
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

SELECT * FROM finish();
ROLLBACK;
