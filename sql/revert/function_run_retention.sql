-- Revert pgmetrics:function_run_retention from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.run_retention(timestamptz);

CREATE FUNCTION pgmetrics.run_retention(now timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
-- JIT would compile the expressions of every partition of the hourly tier, for statements that touch one or two.
SET jit = off
AS $$
DECLARE
    v_detail_cutoff timestamptz;
    v_summary_cutoff timestamptz;
    v_batch_cutoff timestamptz;
    v_route_hours bigint;
    v_operation_hours bigint;
    v_route_rollups bigint;
    v_operation_rollups bigint;
    v_batches bigint;
    v_runs bigint;
    v_folded jsonb;
    v_result jsonb;
    v_partition record;
    v_rows bigint;
    v_dropped integer := 0;
    v_created integer;
BEGIN
    /*
     * The fold keeps the rollups current as data arrives, so every expired hour is already rolled up. The hourly
     * tier is partitioned by UTC day (docs/partitions.md): an expired day is a partition dropped whole, at a cost that
     * follows neither its rows nor the history kept, and that leaves no dead rows behind for VACUUM. Runs
     * serialise on the retention row of pgmetrics.locks, which no other role can lock; a run that finds it held
     * is recorded as skipped, so report_status shows it.
     */
    IF run_retention.now IS NULL OR NOT pg_catalog.isfinite(run_retention.now) THEN
        RAISE EXCEPTION 'now must be a finite timestamp' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.pg_is_in_recovery() THEN
        RETURN pg_catalog.jsonb_build_object('skipped', 'hot standby: retention runs on the primary');
    END IF;
    PERFORM 1 FROM pgmetrics.locks AS l WHERE l.name = 'retention' FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        v_result := pg_catalog.jsonb_build_object('skipped', 'another run_retention holds the lock');
        INSERT INTO pgmetrics.retention_runs (started_at, result)
        VALUES (pg_catalog.statement_timestamp(), v_result)
        ON CONFLICT ON CONSTRAINT retention_runs_pkey DO NOTHING;
        RETURN v_result;
    END IF;
    -- Whole UTC days only: detail of a day goes all at once.
    v_detail_cutoff := pg_catalog.date_trunc(
        'day', run_retention.now - pg_catalog.make_interval(days => pgmetrics._setting('retention_days')), 'UTC'
    );
    -- Pending cells and events are folded first, and every hour before the cutoff rolled up, so that expired hours
    -- reach the rollups before they go. The fold's lock is then held to the end: no fold writes an hour while its
    -- day expires.
    v_folded := pgmetrics._fold_events(
        TRUE, GREATEST(pg_catalog.date_trunc('hour', pg_catalog.now(), 'UTC'), v_detail_cutoff)
    );
    v_summary_cutoff := pg_catalog.date_trunc(
        'day',
        run_retention.now - pg_catalog.make_interval(days => pgmetrics._setting('summary_retention_days')),
        'UTC'
    );
    v_batch_cutoff := run_retention.now
        - pg_catalog.make_interval(days => pgmetrics._setting('batch_retention_days'));
    -- A day partition that ends by the cutoff goes whole; its rows are counted first, so that the result says what
    -- expired as the row-by-row delete did.
    v_route_hours := 0;
    v_operation_hours := 0;
    FOR v_partition IN
        SELECT c.relname AS name, p.relname AS parent
        FROM pg_catalog.pg_inherits AS i
        INNER JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
        INNER JOIN pg_catalog.pg_class AS p ON p.oid = i.inhparent
        WHERE
            p.relnamespace = 'pgmetrics'::regnamespace
            AND p.relname IN ('route_metrics', 'operation_metrics')
            AND c.relname ~ '_p[0-9]{8}$'
            AND pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC'
            + INTERVAL '1 day' <= v_detail_cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM pgmetrics.%I', v_partition.name) INTO v_rows;
        IF v_partition.parent = 'route_metrics' THEN
            v_route_hours := v_route_hours + v_rows;
        ELSE
            v_operation_hours := v_operation_hours + v_rows;
        END IF;
        EXECUTE pg_catalog.format('DROP TABLE pgmetrics.%I', v_partition.name);
        v_dropped := v_dropped + 1;
    END LOOP;
    -- What is left before the cutoff lies in the default partition, or in a partition the cutoff cuts through: those
    -- rows are deleted one by one, so that the detail kept starts exactly at the cutoff.
    DELETE FROM pgmetrics.route_metrics AS m WHERE m.period_start < v_detail_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_route_hours := v_route_hours + v_rows;
    DELETE FROM pgmetrics.operation_metrics AS m WHERE m.period_start < v_detail_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_operation_hours := v_operation_hours + v_rows;
    -- The next three days get their partitions ahead of the writes, and days kept that the default partition holds
    -- rows of (a backfill, a fold run far from now) get theirs, their rows moved out of it.
    v_created := pgmetrics._add_detail_partitions(ARRAY(
        SELECT g.day
        FROM pg_catalog.generate_series(
            pg_catalog.date_trunc('day', run_retention.now, 'UTC'),
            pg_catalog.date_trunc('day', run_retention.now, 'UTC') + INTERVAL '3 days',
            INTERVAL '1 day'
        ) AS g (day)
        UNION
        SELECT pg_catalog.date_trunc('day', m.period_start, 'UTC')
        FROM pgmetrics.route_metrics_default AS m
        WHERE m.period_start >= v_detail_cutoff AND m.period_start < run_retention.now + INTERVAL '4 days'
        UNION
        SELECT pg_catalog.date_trunc('day', m.period_start, 'UTC')
        FROM pgmetrics.operation_metrics_default AS m
        WHERE m.period_start >= v_detail_cutoff AND m.period_start < run_retention.now + INTERVAL '4 days'
    ));
    -- A rollup row goes once its whole period lies before the cutoff (a local day lasts up to 25 hours).
    DELETE FROM pgmetrics.route_metrics_rollup AS r
    WHERE r.period_start <= v_summary_cutoff - CASE
        WHEN r.grain = 'month' THEN INTERVAL '1 month'
        WHEN r.grain = 'week' THEN INTERVAL '7 days'
        WHEN r.zone = 'UTC' THEN INTERVAL '1 day'
        ELSE INTERVAL '25 hours'
    END;
    GET DIAGNOSTICS v_route_rollups = ROW_COUNT;
    DELETE FROM pgmetrics.operation_metrics_rollup AS r
    WHERE r.period_start <= v_summary_cutoff - CASE
        WHEN r.grain = 'month' THEN INTERVAL '1 month'
        WHEN r.grain = 'week' THEN INTERVAL '7 days'
        WHEN r.zone = 'UTC' THEN INTERVAL '1 day'
        ELSE INTERVAL '25 hours'
    END;
    GET DIAGNOSTICS v_operation_rollups = ROW_COUNT;
    DELETE FROM pgmetrics.ingested_batches AS b WHERE b.ingested_at < v_batch_cutoff;
    GET DIAGNOSTICS v_batches = ROW_COUNT;
    DELETE FROM pgmetrics.retention_runs AS r WHERE r.started_at < v_summary_cutoff;
    GET DIAGNOSTICS v_runs = ROW_COUNT;
    v_result := pg_catalog.jsonb_build_object(
        'now', run_retention.now,
        'route_cells_folded', v_folded -> 'route_cells_folded',
        'route_events_folded', v_folded -> 'route_events_folded',
        'operation_cells_folded', v_folded -> 'operation_cells_folded',
        'operation_events_folded', v_folded -> 'operation_events_folded',
        'detail_cutoff', v_detail_cutoff,
        'summary_cutoff', v_summary_cutoff,
        'batch_cutoff', v_batch_cutoff,
        'route_hours_expired', v_route_hours,
        'operation_hours_expired', v_operation_hours,
        'detail_partitions_dropped', v_dropped,
        'detail_partitions_created', v_created,
        'route_rollups_expired', v_route_rollups,
        'operation_rollups_expired', v_operation_rollups,
        'batches_pruned', v_batches,
        'runs_pruned', v_runs
    );
    INSERT INTO pgmetrics.retention_runs (started_at, result)
    VALUES (pg_catalog.statement_timestamp(), v_result)
    ON CONFLICT ON CONSTRAINT retention_runs_pkey DO UPDATE SET result = excluded.result;
    RETURN v_result;
END
$$;

COMMENT ON FUNCTION pgmetrics.run_retention(timestamptz) IS
'Folds the pending cells and events (fold_events) and rolls up every hour before the detail cutoff, then expires '
'hourly detail older than retention_days (whole UTC days before now - retention_days, the rollups hold it: their '
'daily partitions are dropped, rows left in the '
'default partition deleted), creates the partitions of the next 3 days and of kept days whose rows wait in the '
'default partition (moving those rows), and expires rollup rows whose period ended before now - '
'summary_retention_days, ingest_batch ids older than batch_retention_days and old run records. Returns jsonb with '
'the cutoffs, what was folded, the rows removed per table and the detail partitions dropped and created, or '
'{"skipped": reason} on a hot standby or when another run holds the retention lock (recorded in retention_runs, so '
'report_status shows it). Idempotent. now defaults to now(); 22023 when it is NULL or infinite. For the schema owner '
'and pg_cron.';

REVOKE ALL ON FUNCTION pgmetrics.run_retention(timestamptz) FROM public;

COMMIT;
