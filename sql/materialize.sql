-- Views whose rows the build stores once, as a table of the same name, columns and row order: they
-- recompute window functions over every fact on each query. sql/views.sql stays their definition.
CREATE TABLE _target_attainment AS SELECT * FROM target_attainment;
DROP VIEW target_attainment;
ALTER TABLE _target_attainment RENAME TO target_attainment;
