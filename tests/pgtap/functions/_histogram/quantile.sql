BEGIN;
SELECT plan(14);

SELECT is(pgmetrics._histogram_quantile('{}', 0, 0.5, NULL, NULL), NULL, 'an empty histogram has no quantile');
SELECT is(pgmetrics._histogram_quantile(NULL, NULL, 0.5, NULL, NULL), NULL, 'NULL is the empty histogram');
SELECT is(pgmetrics._histogram_quantile('{}', 3, 0.99, 0, 0), 0::float8, 'all zeros give 0');

CREATE TEMP TABLE h AS
SELECT pgmetrics._histogram_merge_agg(ARRAY[(pgmetrics._histogram_bucket(v) << 15) | 1]) AS histogram
FROM generate_series(1, 100) AS v;

SELECT is((SELECT pgmetrics._histogram_quantile(histogram, 0, 0, 1, 100) FROM h), 1::float8, 'q = 0 is the minimum');
SELECT is((SELECT pgmetrics._histogram_quantile(histogram, 0, 1, 1, 100) FROM h), 100::float8, 'q = 1 is the maximum');
SELECT ok(
    (SELECT abs(pgmetrics._histogram_quantile(histogram, 0, 0.5, 1, 100) - 50) / 50 <= 0.01 FROM h),
    'the median of 1..100 is 50 within 1 %'
);
SELECT ok(
    (SELECT abs(pgmetrics._histogram_quantile(histogram, 0, 0.95, NULL, NULL) - 95) / 95 <= 0.01 FROM h),
    'p95 is right within 1 % without min and max'
);
SELECT is(
    (SELECT pgmetrics._histogram_quantile(histogram, 60, 0.375, 0, 100) FROM h), 0::float8,
    'zeros rank first: with 60 zeros of 160 the rank 60 is zero'
);
SELECT is(
    pgmetrics._histogram_quantile(ARRAY[(pgmetrics._histogram_bucket(7.25) << 15) | 5], 0, 0.5, 7.25, 7.25),
    7.25::float8,
    'a constant duration is reported exactly (clamped to min and max)'
);

SELECT throws_ok($$SELECT pgmetrics._histogram_quantile('{1}', 0, NULL, 1, 1)$$, '22023',
    'q must be between 0 and 1, got NULL', 'a NULL q is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_quantile('{1}', 0, 'NaN', 1, 1)$$, '22023',
    'q must be between 0 and 1, got NaN', 'a NaN q is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_quantile('{1}', 0, -0.01, 1, 1)$$, '22023',
    'q must be between 0 and 1, got -0.01', 'a negative q is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_quantile('{1}', 0, 1.5, 1, 1)$$, '22023',
    'q must be between 0 and 1, got 1.5', 'a q above 1 is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_quantile('{}', 0, 2, NULL, NULL)$$, '22023', NULL,
    'q is checked even for an empty histogram');

SELECT * FROM finish();
ROLLBACK;
