"""Alembic environment: one metadata for SQLite and PostgreSQL, batch mode on SQLite."""

from alembic import context
from sqlalchemy import Connection

from direkte.config import get_settings
from direkte.db import make_engine
from direkte.models import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url()
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
