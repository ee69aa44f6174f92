-- Revert pgmetrics:function_set_setting from pg

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

DROP FUNCTION pgmetrics.set_setting(text, integer);

-- The body of v0.6.0, with the session settings alter_functions_pinned_settings pinned on it.
CREATE FUNCTION pgmetrics.set_setting(name text, value integer)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $$
DECLARE
    v_setting pgmetrics.settings;
BEGIN
    IF set_setting.name IS NULL THEN
        RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF set_setting.value IS NULL THEN
        RAISE EXCEPTION 'value must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Row lock: two concurrent changes of the pair retention/summary days cannot cross.
    SELECT s.* INTO v_setting FROM pgmetrics.settings AS s WHERE s.name = set_setting.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'name must be one of %, got %',
            (SELECT pg_catalog.string_agg(s.name, ', ' ORDER BY s.name) FROM pgmetrics.settings AS s),
            pg_catalog.quote_literal(pg_catalog.left(set_setting.name, 64))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF set_setting.value NOT BETWEEN v_setting.min_value AND v_setting.max_value THEN
        RAISE EXCEPTION 'value of % must be between % and % days, got %',
            set_setting.name, v_setting.min_value, v_setting.max_value, set_setting.value
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The daily tier must cover every day the hourly tier still holds, or summaries would
    -- lose days that detail still has.
    IF set_setting.name = 'retention_days'
        AND set_setting.value > pgmetrics._setting('summary_retention_days') THEN
        RAISE EXCEPTION 'value of retention_days (%) must not exceed summary_retention_days (%)',
            set_setting.value, pgmetrics._setting('summary_retention_days')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF set_setting.name = 'summary_retention_days'
        AND set_setting.value < pgmetrics._setting('retention_days') THEN
        RAISE EXCEPTION 'value of summary_retention_days (%) must not be below retention_days (%)',
            set_setting.value, pgmetrics._setting('retention_days')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE pgmetrics.settings AS s
    SET value = set_setting.value, updated_at = pg_catalog.now()
    WHERE s.name = set_setting.name;
    RETURN set_setting.value;
END
$$;

COMMENT ON FUNCTION pgmetrics.set_setting(text, integer) IS
'Sets one knob of pgmetrics.settings (retention_days, summary_retention_days, batch_retention_days) and returns '
'the new value. Raises 22004 for NULL, 22023 for an unknown name, a value outside the bounds stored with the '
'setting, or retention_days above summary_retention_days. For the schema owner only.';

REVOKE ALL ON FUNCTION pgmetrics.set_setting(text, integer) FROM public;

COMMIT;
