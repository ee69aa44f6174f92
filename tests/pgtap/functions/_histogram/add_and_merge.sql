BEGIN;
SELECT plan(21);

-- Elements are bucket * 2^15 + count: 32768 is 2^15, 32767 the most one element counts.
SELECT is(pgmetrics._histogram_add(NULL, 1), '{1}'::int[], 'adding to NULL builds a one-value histogram');
SELECT is(pgmetrics._histogram_add('{1}', 1), '{2}'::int[], 'adding to an existing bucket increments it');
SELECT is(pgmetrics._histogram_add('{1}', 0), '{1}'::int[], 'a zero duration leaves the histogram unchanged');
SELECT is(pgmetrics._histogram_add(NULL, '-0'), '{}'::int[], 'so does -0');
SELECT is(
    pgmetrics._histogram_add(pgmetrics._histogram_add(pgmetrics._histogram_add(NULL, 5), 0.5), 1),
    ARRAY[
        pgmetrics._histogram_bucket(0.5) * 32768 + 1,
        1,
        pgmetrics._histogram_bucket(5) * 32768 + 1
    ],
    'new buckets are inserted in key order'
);
SELECT throws_ok($$SELECT pgmetrics._histogram_add('{}', NULL)$$, '22004', 'duration_ms must not be NULL',
    'a NULL duration is rejected');
SELECT throws_ok($$SELECT pgmetrics._histogram_add('{}', -0.5)$$, '22023',
    'duration_ms must be finite and >= 0, got -0.5', 'a negative duration is rejected');
SELECT is(pgmetrics._histogram_add('{32767}', 1), '{1,32767}'::int[],
    'a full element gets a new element of its bucket before it');
SELECT is(pgmetrics._histogram_add('{1,32767}', 1), '{2,32767}'::int[],
    'and the remainder, first, counts the next ones');

SELECT is(pgmetrics._histogram_merge(NULL, NULL), '{}'::int[], 'two empty histograms merge to {}');
SELECT is(pgmetrics._histogram_merge('{1}', NULL), '{1}'::int[], 'NULL is the empty histogram');
SELECT is(
    pgmetrics._histogram_merge(ARRAY[32769, -32767], ARRAY[32771, 5]),
    ARRAY[-32767, 5, 32772],
    'counts of the same key add up; keys come out ascending whatever the input order'
);
SELECT is(
    pgmetrics._histogram_merge('{32767}', '{32767,2}'),
    '{2,32767,32767}'::int[],
    'a count above 32767 takes several elements of its bucket, the remainder first'
);
SELECT is(
    pgmetrics._histogram_merge('{32767}', '{-32767,32767,32769}'),
    '{-32767,32767,32767,32769}'::int[],
    'the elements of a split count stay between the keys around them'
);
SELECT is(pgmetrics._histogram_pack('{-37220,35488}', '{1,1}'), ARRAY[-37220 * 32768 + 1, 35488 * 32768 + 1],
    'the lowest and highest buckets fit in an int');
SELECT throws_ok($$SELECT pgmetrics._histogram_pack('{35489}', '{1}')$$, '22003',
    'histogram bucket 35489 is outside -37220 to 35488', 'a bucket past the largest double is refused');

SELECT is(pgmetrics._histogram_difference('{5,32771}', '{2,32769}'), '{3,32770}'::int[],
    'a difference subtracts the counts of each bucket');
SELECT is(pgmetrics._histogram_difference('{5}', '{5}'), '{}'::int[], 'and drops the buckets left empty');
SELECT throws_ok($$SELECT pgmetrics._histogram_difference('{5}', '{6}')$$, '22003', NULL,
    'a difference cannot go below zero');

SELECT is(
    (SELECT pgmetrics._histogram_merge_agg(h) FROM (VALUES ('{1}'::int[]), (NULL), ('{2,32769}')) AS t (h)),
    ARRAY[3, 32769],
    'the aggregate merges a group and skips NULL'
);
SELECT is(
    (SELECT pgmetrics._histogram_merge_agg(h) FROM (VALUES (NULL::int[])) AS t (h) WHERE false),
    '{}'::int[],
    'the aggregate of no rows is the empty histogram'
);

SELECT * FROM finish();
ROLLBACK;
