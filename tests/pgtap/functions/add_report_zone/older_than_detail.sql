BEGIN;
SELECT plan(5);

-- The reviewer's reproduction: a daily summary of a month older than the hourly detail, in America/Chicago, is the
-- same before the zone is added, once it is, and once it is removed. Before, adding the zone made it NULL: the zone
-- had no local days for the expired hours, and the summaries read only the zone's days.
CREATE TEMPORARY TABLE fixture AS
SELECT
    m.utc_start,
    pg_catalog.date_trunc('month', m.utc_start + INTERVAL '15 days', 'America/Chicago') AS start,
    pg_catalog.date_trunc('month', m.utc_start + INTERVAL '45 days', 'America/Chicago') AS "end"
FROM (SELECT pg_catalog.date_trunc('month', pg_catalog.now() - INTERVAL '200 days', 'UTC') AS utc_start) AS m;

-- An event every hour of two months, with the hours of day's end and start busier, so that a day placed in the wrong
-- local day shows.
SELECT pgmetrics.record_route_metric('/c', 'GET', pg_catalog.date_part('hour', h.at AT TIME ZONE 'UTC') <> 3, 5, h.at)
FROM fixture AS f
CROSS JOIN LATERAL pg_catalog.generate_series(
    f.utc_start - INTERVAL '2 days', f.utc_start + INTERVAL '62 days', INTERVAL '1 hour'
) AS h (at)
CROSS JOIN LATERAL pg_catalog.generate_series(
    1, CASE WHEN pg_catalog.date_part('hour', h.at AT TIME ZONE 'UTC') IN (0, 23) THEN 3 ELSE 1 END
) AS r (n);
SELECT pgmetrics.fold_events();
SELECT pgmetrics.run_retention();
SELECT is(
    (SELECT pg_catalog.count(*) FROM pgmetrics.route_metrics AS m WHERE m.route = '/c'),
    0::bigint,
    'the month is older than the hourly detail'
);

-- Without local days, an edge UTC day whose hours expired is read whole, and the one at the end of the range lands
-- in the local day after it: only the days of the range are compared.
CREATE TEMPORARY TABLE before AS
SELECT s.bucket_start, s.total_requests, s.successful, s.failed
FROM fixture AS f, pgmetrics.route_metrics_summary(f.start, f."end", 'day', tz => 'America/Chicago') AS s
WHERE s.bucket_start < f."end";
SELECT cmp_ok((SELECT pg_catalog.sum(b.total_requests) FROM before AS b), '>', 700::numeric,
    'the month reads before the zone is added');

SELECT pgmetrics.add_report_zone('America/Chicago');
SELECT results_eq(
    $$SELECT s.bucket_start, s.total_requests, s.successful, s.failed
      FROM fixture AS f, pgmetrics.route_metrics_summary(f.start, f."end", 'day', tz => 'America/Chicago') AS s
      ORDER BY 1$$,
    $$SELECT * FROM before ORDER BY 1$$,
    'each local day reads the same once the zone is added'
);
SELECT results_eq(
    $$SELECT s.total_requests
      FROM fixture AS f, pgmetrics.route_metrics_summary(f.start, f."end", 'month', tz => 'America/Chicago') AS s$$,
    $$SELECT pg_catalog.sum(b.total_requests)::bigint FROM before AS b$$,
    'and so does the local month'
);

SELECT pgmetrics.remove_report_zone('America/Chicago');
SELECT results_eq(
    $$SELECT s.bucket_start, s.total_requests, s.successful, s.failed
      FROM fixture AS f, pgmetrics.route_metrics_summary(f.start, f."end", 'day', tz => 'America/Chicago') AS s
      WHERE s.bucket_start < f."end"
      ORDER BY 1$$,
    $$SELECT * FROM before ORDER BY 1$$,
    'and once it is removed'
);

SELECT * FROM finish();
ROLLBACK;
