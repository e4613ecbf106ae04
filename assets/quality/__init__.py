"""Quality group: the SQL models of `dbt_like_sql/` in the DuckDB warehouse, their checks, the
provenance index and the `audit` job (see `definitions.py`)."""
