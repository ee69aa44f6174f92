BEGIN;
SELECT plan(17);

SELECT results_eq(
    $$SELECT name, value FROM pgmetrics.settings ORDER BY name$$,
    $$VALUES ('batch_retention_days', 7), ('max_keys_per_hour', 20000), ('retention_days', 90),
        ('summary_retention_days', 730)$$,
    'the defaults: 90 days of detail, 730 of summaries, 7 of batch ids, 20000 keys per hour'
);
SELECT is(pgmetrics.set_setting('retention_days', 30), 30, 'set_setting returns the new value');
SELECT is(pgmetrics._setting('retention_days'), 30, 'and stores it');

SELECT throws_ok($$SELECT pgmetrics.set_setting('retention_days', 0)$$,
    '22023', 'value of retention_days must be between 1 and 36500 days, got 0', 'zero days are rejected');
SELECT throws_ok($$SELECT pgmetrics.set_setting('retention_days', -5)$$,
    '22023', 'value of retention_days must be between 1 and 36500 days, got -5', 'negative days are rejected');
SELECT throws_ok($$SELECT pgmetrics.set_setting('batch_retention_days', 100000)$$,
    '22023', NULL, 'too many days are rejected');
SELECT is(pgmetrics.set_setting('max_keys_per_hour', 10000000), 10000000, 'the key bound takes up to 10 million');
SELECT throws_ok($$SELECT pgmetrics.set_setting('max_keys_per_hour', 0)$$,
    '22023', 'value of max_keys_per_hour must be between 1 and 10000000 keys, got 0',
    'a key bound of zero is rejected, in keys');
SELECT throws_ok($$SELECT pgmetrics.set_setting('max_keys_per_hour', 10000001)$$,
    '22023', NULL, 'a key bound above 10 million is rejected');
SELECT throws_ok($$SELECT pgmetrics.set_setting('retention', 5)$$,
    '22023', 'name must be one of batch_retention_days, max_keys_per_hour, retention_days, summary_retention_days, got '
    '''retention''',
    'an unknown name is rejected');
SELECT throws_ok($$SELECT pgmetrics.set_setting(NULL, 5)$$, '22004', 'name must not be NULL', 'NULL name');
SELECT throws_ok($$SELECT pgmetrics.set_setting('retention_days', NULL)$$, '22004', 'value must not be NULL',
    'NULL value');
SELECT throws_ok($$SELECT pgmetrics.set_setting('retention_days', 800)$$,
    '22023', 'value of retention_days (800) must not exceed summary_retention_days (730)',
    'detail cannot outlive the summaries');
SELECT throws_ok($$SELECT pgmetrics.set_setting('summary_retention_days', 10)$$,
    '22023', 'value of summary_retention_days (10) must not be below retention_days (30)',
    'summaries cannot expire before detail');
SELECT is(pgmetrics._setting('retention_days'), 30, 'a rejected change changes nothing');

SELECT function_privs_are('pgmetrics', 'set_setting', ARRAY['text', 'integer'], 'pgmetrics_writer', ARRAY[]::text[],
    'the writer cannot change settings');
SELECT function_privs_are('pgmetrics', 'set_setting', ARRAY['text', 'integer'], 'pgmetrics_reader', ARRAY[]::text[],
    'the reader cannot change settings');

SELECT * FROM finish();
ROLLBACK;
