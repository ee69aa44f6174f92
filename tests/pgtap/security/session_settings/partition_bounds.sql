BEGIN;
SELECT plan(6);

-- The reviewer's reproduction: a session in Asia/Shanghai under DateStyle 'SQL, MDY' folds a day that has no
-- partition yet. Its partition must hold that UTC day, 00:00 to 00:00, and later folds and retention go on.
CREATE TEMPORARY TABLE fixture AS
SELECT pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC') - INTERVAL '20 days' AS day;
SELECT ok(
    pg_catalog.to_regclass(
        'pgmetrics.route_metrics_p' || pg_catalog.to_char((SELECT f.day FROM fixture AS f) AT TIME ZONE 'UTC', 'YYYYMMDD')
    ) IS NULL,
    'the day has no partition yet'
);

SET TimeZone = 'Asia/Shanghai';
SET DateStyle = 'SQL, MDY';
SET IntervalStyle = 'sql_standard';
SELECT pgmetrics.record_route_metric('/a', 'GET', TRUE, 5, f.day + INTERVAL '10 minutes') FROM fixture AS f;
SELECT pgmetrics.record_route_metric('/a', 'GET', TRUE, 5, f.day + INTERVAL '23 hours 50 minutes') FROM fixture AS f;
SELECT pgmetrics.fold_events();

SELECT is(
    (
        SELECT pg_catalog.count(*) FROM pgmetrics.route_metrics AS m
        WHERE m.tableoid = pg_catalog.to_regclass(
            'pgmetrics.route_metrics_p' || pg_catalog.to_char((SELECT f.day FROM fixture AS f) AT TIME ZONE 'UTC', 'YYYYMMDD')
        )
    ),
    2::bigint,
    'the first and the last hour of the UTC day are in its partition'
);
SELECT is(
    (SELECT pg_catalog.count(*) FROM pgmetrics.route_metrics_default),
    0::bigint,
    'nothing of the day is left in the default partition'
);

SELECT pgmetrics.record_route_metric('/a', 'GET', TRUE, 5, f.day + INTERVAL '1 day 5 hours') FROM fixture AS f;
SELECT lives_ok($$SELECT pgmetrics.fold_events()$$, 'the next day folds: its partition overlaps no other');
SELECT lives_ok($$SELECT pgmetrics.run_retention()$$, 'retention runs');
SELECT is(
    (SELECT pg_catalog.sum(m.total_requests) FROM pgmetrics.route_metrics AS m WHERE m.route = '/a'),
    3::numeric,
    'every hour is kept'
);

SELECT * FROM finish();
ROLLBACK;
