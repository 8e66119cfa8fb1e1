"""Alembic's environment: the URL comes from `bot.storage.migrate`, never from a file."""

from alembic import context

from bot.storage.store import create_db_engine
from bot.storage.tables import Base

config = context.config
engine = create_db_engine(config.attributes["url"])

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
