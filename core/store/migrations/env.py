"""Alembic environment: the engine comes from wangge (``config.attributes['engine']``), never an ini file."""
from alembic import context

from wangge.core.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Several app processes may start at once against one database: migrate one at a time.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7355608)")
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
