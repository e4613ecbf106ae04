"""Refresh the warehouse views a DuckDB step reads, so it never reads a stale glob (pure: no Dagster)."""

FINGERPRINT_EXEMPT = "views over outputs already written; never what a step computes"


def refresh_upstream_views(deps: tuple[str, ...], database: str) -> None:
    """Recreate the views of Python assets a step reads (a no-op for SQL-model tables)."""
    from resources.settings import load_settings
    from resources.warehouse import sync_views

    sync_views(database, load_settings().data, [[d] for d in deps])
