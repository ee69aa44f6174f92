-- Deploy pgmetrics:table_locks to pg
-- requires: schema_pgmetrics

BEGIN;

SET LOCAL search_path = pg_catalog, pg_temp;

/*
 * The fold and retention serialise on a row of this table locked FOR UPDATE. Unlike an advisory lock, which any
 * login may take, locking a row needs UPDATE on the table, which only its owner has: no other role can stall them.
 */
CREATE TABLE pgmetrics.locks (
    name text PRIMARY KEY,
    CONSTRAINT locks_name_check CHECK (name IN ('fold', 'retention'))
);

INSERT INTO pgmetrics.locks (name) VALUES ('fold'), ('retention');

ALTER TABLE pgmetrics.locks ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON pgmetrics.locks FROM public;

COMMENT ON TABLE pgmetrics.locks IS
'One row per exclusive job (fold, retention), locked FOR UPDATE by the job while it runs.';

COMMIT;
