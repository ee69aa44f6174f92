-- slow: 300,000 values merged hour by hour
BEGIN;
SELECT plan(3);

-- 300 one-hour histograms of 1000 values each: the state is merged along the way (more than 4096 elements).
CREATE TEMP TABLE hours AS
SELECT
    h AS hour,
    (SELECT array_agg((pgmetrics._histogram_bucket(v) << 15) | 1 ORDER BY v)
     FROM generate_series(h * 1000 + 1, h * 1000 + 1000) AS v) AS histogram
FROM generate_series(0, 299) AS h;

SELECT is(
    (SELECT sum(e & 32767)::bigint FROM unnest((SELECT pgmetrics._histogram_merge_agg(histogram) FROM hours)) AS e),
    300000::bigint,
    'every count survives the merge'
);
SELECT is(
    (SELECT pgmetrics._histogram_merge_agg(histogram) FROM hours),
    (SELECT pgmetrics._histogram_merge(array_agg(e), NULL) FROM hours, unnest(histogram) AS e),
    'the aggregate equals one merge of everything'
);
SELECT is(
    (SELECT pgmetrics._histogram_merge_agg(histogram ORDER BY hour DESC) FROM hours),
    (SELECT pgmetrics._histogram_merge_agg(histogram ORDER BY hour) FROM hours),
    'the order of the rows does not matter'
);

SELECT * FROM finish();
ROLLBACK;
