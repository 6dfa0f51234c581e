"""Storage through SQLAlchemy: SQLite by default, PostgreSQL by URL; schema managed by Alembic."""
from .db import Database, open_database

__all__ = ["Database", "open_database"]
