BEGIN;
SELECT plan(14);

-- Elements are key * 2^46 + count: 70368744177664 is 2^46.
SELECT is(pgmetrics._histogram_add(NULL, 1), '{1}'::bigint[], 'adding to NULL builds a one-value histogram');
SELECT is(pgmetrics._histogram_add('{1}', 1), '{2}'::bigint[], 'adding to an existing bucket increments it');
SELECT is(pgmetrics._histogram_add('{1}', 0), '{1}'::bigint[], 'a zero duration leaves the histogram unchanged');
SELECT is(pgmetrics._histogram_add(NULL, '-0'), '{}'::bigint[], 'so does -0');
SELECT is(
    pgmetrics._histogram_add(pgmetrics._histogram_add(pgmetrics._histogram_add(NULL, 5), 0.5), 1),
    ARRAY[
        pgmetrics._histogram_bucket(0.5)::bigint * 70368744177664 + 1,
        1,
        pgmetrics._histogram_bucket(5)::bigint * 70368744177664 + 1
    ],
    'new buckets are inserted in key order'
);
SELECT throws_ok($$SELECT pgmetrics._histogram_add('{}', NULL)$$, '22004', 'duration_ms must not be NULL',
    'a NULL duration is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_add('{}', -0.5)$$, '22023',
    'duration_ms must be finite and >= 0, got -0.5', 'a negative duration is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_add('{70368744177663}', 1)$$, '22003', NULL,
    'a full bucket refuses one more count');

SELECT is(pgmetrics._histogram_merge(NULL, NULL), '{}'::bigint[], 'two empty histograms merge to {}');
SELECT is(pgmetrics._histogram_merge('{1}', NULL), '{1}'::bigint[], 'NULL is the empty histogram');
SELECT is(
    pgmetrics._histogram_merge(ARRAY[70368744177665, -70368744177663], ARRAY[70368744177667, 5]),
    ARRAY[-70368744177663, 5, 70368744177668],
    'counts of the same key add up; keys come out ascending whatever the input order'
);
SELECT throws_ok($$SELECT pgmetrics._histogram_merge('{70368744177663}', '{1}')$$, '22003', NULL,
    'a merged count above 2^46 - 1 is refused, not spilled into the key');

SELECT is(
    (SELECT pgmetrics._histogram_merge_agg(h) FROM (VALUES ('{1}'::bigint[]), (NULL), ('{2,70368744177665}')) AS t (h)),
    ARRAY[3, 70368744177665],
    'the aggregate merges a group and skips NULL'
);
SELECT is(
    (SELECT pgmetrics._histogram_merge_agg(h) FROM (VALUES (NULL::bigint[])) AS t (h) WHERE false),
    '{}'::bigint[],
    'the aggregate of no rows is the empty histogram'
);

SELECT * FROM finish();
ROLLBACK;
