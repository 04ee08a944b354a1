"""target_attainment is stored at load as a table: the same rows, columns, order and comments as its view
definition in sql/views.sql gives on the same warehouse."""

import duckdb

from pipeline.warehouse.load import _statements, read_sql


def _definition(name: str) -> str:
    [statement] = [s for s in _statements(read_sql("views.sql")) if s.startswith(f"CREATE VIEW {name} AS")]
    return statement.replace(f"CREATE VIEW {name} AS", f"CREATE TEMP VIEW {name}_as_defined AS", 1)


def test_target_attainment_is_a_table_with_the_rows_of_its_view(built):
    wh, _, _ = built
    with duckdb.connect(str(wh), read_only=True) as con:
        kind = con.execute(
            "select table_type from information_schema.tables where table_name = 'target_attainment'"
        ).fetchall()
        assert kind == [("BASE TABLE",)]
        con.execute(_definition("target_attainment"))
        stored = con.execute("select * from target_attainment")
        columns = [d[0] for d in stored.description]
        rows = stored.fetchall()
        defined = con.execute("select * from target_attainment_as_defined")
        assert columns == [d[0] for d in defined.description]
        assert rows == defined.fetchall() and len(rows) > 10
        comment = con.execute("select comment from duckdb_tables() where table_name = 'target_attainment'").fetchone()
        assert comment[0].startswith("Outcome against the council's target") and "Stored as a table" in comment[0]
        [(outcome_comment,)] = con.execute(
            "select comment from duckdb_columns() where table_name = 'target_attainment' and column_name = 'outcome'"
        ).fetchall()
        assert outcome_comment
