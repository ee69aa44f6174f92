-- Deploy pgmetrics:function__add_detail_partitions to pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics._add_detail_partitions(timestamptz[]);

CREATE FUNCTION pgmetrics._add_detail_partitions(days timestamptz[])
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $$
DECLARE
    v_day timestamptz;
    v_parent text;
    v_name text;
    -- The bounds of the day as literals that read the same in any session: UTC, ISO, with their offset.
    v_from text;
    v_to text;
    v_busy boolean := FALSE;
    v_created integer := 0;
BEGIN
    /*
     * A partition is built beside the tier and attached, rather than created as PARTITION OF: ATTACH takes only a
     * SHARE UPDATE EXCLUSIVE lock on the parent, so readers and the fold's inserts go on, and the day's rows that
     * the default partition caught while the day had no partition of its own move into the new table before it is
     * attached (a default partition holding rows of the new range would make the attach fail). The bound check
     * added before the attach spares it a scan of the new table.
     *
     * Only the owner of the tables runs this (the fold as SECURITY DEFINER, run_retention, the deploy), under the
     * fold row of pgmetrics.locks, so two callers never build the same day. At most 100 days are built per call:
     * each holds a handful of locks to the end of the transaction, and days left over stay in the default
     * partition, where every query still finds them, until a later call.
     */
    IF _add_detail_partitions.days IS NULL THEN
        RAISE EXCEPTION 'days must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM 1 FROM pgmetrics.locks AS l WHERE l.name = 'fold' FOR UPDATE;
    FOR v_day IN
        SELECT d.day
        FROM (
            SELECT DISTINCT pg_catalog.date_trunc('day', u.t, 'UTC') AS day
            FROM pg_catalog.unnest(_add_detail_partitions.days) AS u (t)
            WHERE pg_catalog.isfinite(u.t)
        ) AS d
        WHERE pg_catalog.to_regclass(
            'pgmetrics.route_metrics_p' || pg_catalog.to_char(d.day AT TIME ZONE 'UTC', 'YYYYMMDD')
        ) IS NULL
        OR pg_catalog.to_regclass(
            'pgmetrics.operation_metrics_p' || pg_catalog.to_char(d.day AT TIME ZONE 'UTC', 'YYYYMMDD')
        ) IS NULL
        ORDER BY d.day DESC
        LIMIT 100
    LOOP
        /*
         * The bounds are written out in UTC ISO form, never rendered by format('%L') of a timestamptz, which follows
         * the session's DateStyle and TimeZone: a day bounded at 14:00 UTC by a caller in Asia/Shanghai overlapped the
         * next day's partition, and every later fold failed.
         */
        v_from := pg_catalog.to_char(v_day AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"');
        v_to := pg_catalog.to_char((v_day AT TIME ZONE 'UTC') + INTERVAL '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"');
        FOREACH v_parent IN ARRAY ARRAY['route_metrics', 'operation_metrics'] LOOP
            v_name := v_parent || '_p' || pg_catalog.to_char(v_day AT TIME ZONE 'UTC', 'YYYYMMDD');
            CONTINUE WHEN pg_catalog.to_regclass('pgmetrics.' || v_name) IS NOT NULL;
            /*
             * The attach takes an ACCESS EXCLUSIVE lock on the default partition. A reader whose transaction read the
             * tier and stays open would make it wait, holding the fold's lock: every fold and retention would wait
             * with it. The locks are only tried; while a reader holds them, the days left stay in the default
             * partition until a later call.
             */
            BEGIN
                EXECUTE pg_catalog.format('LOCK TABLE pgmetrics.%I IN SHARE UPDATE EXCLUSIVE MODE NOWAIT', v_parent);
                EXECUTE pg_catalog.format(
                    'LOCK TABLE pgmetrics.%I IN ACCESS EXCLUSIVE MODE NOWAIT', v_parent || '_default'
                );
            EXCEPTION WHEN lock_not_available THEN
                v_busy := TRUE;
            END;
            EXIT WHEN v_busy;
            EXECUTE pg_catalog.format(
                'CREATE TABLE pgmetrics.%I (LIKE pgmetrics.%I INCLUDING ALL)', v_name, v_parent
            );
            EXECUTE pg_catalog.format(
                'WITH moved AS (DELETE FROM pgmetrics.%I AS m WHERE m.period_start >= %L AND m.period_start < %L '
                'RETURNING m.*) INSERT INTO pgmetrics.%I SELECT * FROM moved',
                v_parent || '_default', v_from, v_to, v_name
            );
            EXECUTE pg_catalog.format(
                'ALTER TABLE pgmetrics.%I ADD CONSTRAINT %I CHECK (period_start >= %L AND period_start < %L)',
                v_name, v_name || '_bound', v_from, v_to
            );
            EXECUTE pg_catalog.format(
                'ALTER TABLE pgmetrics.%I ATTACH PARTITION pgmetrics.%I FOR VALUES FROM (%L) TO (%L)',
                v_parent, v_name, v_from, v_to
            );
            EXECUTE pg_catalog.format('ALTER TABLE pgmetrics.%I DROP CONSTRAINT %I', v_name, v_name || '_bound');
            -- Partitions are tables of their own: no role but the owner may read them directly, and should a
            -- privilege be granted by mistake, row security with no policy still shows no row.
            EXECUTE pg_catalog.format('ALTER TABLE pgmetrics.%I ENABLE ROW LEVEL SECURITY', v_name);
            EXECUTE pg_catalog.format('REVOKE ALL ON pgmetrics.%I FROM public', v_name);
            EXECUTE pg_catalog.format(
                'COMMENT ON TABLE pgmetrics.%I IS %L', v_name,
                'Partition of ' || v_parent || ' holding the UTC day starting '
                || pg_catalog.to_char(v_day AT TIME ZONE 'UTC', 'YYYY-MM-DD') || '; dropped by run_retention.'
            );
            v_created := v_created + 1;
        END LOOP;
        EXIT WHEN v_busy;
    END LOOP;
    RETURN v_created;
END
$$;

COMMENT ON FUNCTION pgmetrics._add_detail_partitions(timestamptz[]) IS
'Creates, for each UTC day holding one of days that lacks them, the partitions route_metrics_pYYYYMMDD and '
'operation_metrics_pYYYYMMDD (at most 100 days per call, the latest first), moving the rows of that day out of the '
'default partitions; row security enabled, no privilege for any role but the owner. Returns the number of '
'partitions created. Waits for no reader: while a transaction that read the hourly tier holds it, the days left '
'stay in the default partitions until a later call. Takes the fold row of pgmetrics.locks. Private: called by '
'fold_events, run_retention and the deploy as the schema owner. Raises 22004 for NULL days.';

REVOKE ALL ON FUNCTION pgmetrics._add_detail_partitions(timestamptz[]) FROM public;

COMMIT;
