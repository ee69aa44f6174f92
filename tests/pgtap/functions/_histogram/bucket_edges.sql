BEGIN;
SELECT plan(12);

SELECT is(pgmetrics._histogram_bucket(1), 0, 'bucket 0 ends at 1 ms, inclusive');
SELECT is(pgmetrics._histogram_bucket(1.01::float8 / 0.99::float8), 1, 'g itself is the top of bucket 1');
SELECT is(pgmetrics._histogram_bucket(1.0000000000000002), 1, 'the double after 1 opens bucket 1');
SELECT is(pgmetrics._histogram_bucket(5e-324), -37220, 'the smallest subnormal has a bucket');
SELECT is(pgmetrics._histogram_bucket(1.7976931348623157e308), 35488, 'the largest double has a bucket');
SELECT is(pgmetrics._histogram_bucket(NULL), NULL, 'NULL has no bucket');
SELECT is(pgmetrics._histogram_bucket(100), ceil(ln(100) / ln(1.01 / 0.99))::int, '100 ms is in bucket ceil(log_g 100)');
SELECT throws_ok($$SELECT pgmetrics._histogram_bucket(0)$$, '22023',
    'duration_ms must be finite and > 0, got 0', 'zero has no log bucket (it is the zero count)');
SELECT throws_ok($$SELECT pgmetrics._histogram_bucket(-1)$$, '22023',
    'duration_ms must be finite and > 0, got -1', 'a negative duration is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_bucket('NaN')$$, '22023',
    'duration_ms must be finite and > 0, got NaN', 'NaN is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_bucket('Infinity')$$, '22023',
    'duration_ms must be finite and > 0, got Infinity', 'infinity is rejected');
SELECT is(
    (SELECT bool_and(pgmetrics._histogram_bucket(v) <= pgmetrics._histogram_bucket(v + 0.5))
     FROM generate_series(0.5, 5000, 0.5) AS v),
    true,
    'a larger duration never has a lower bucket'
);

SELECT * FROM finish();
ROLLBACK;
