"""What the bot remembers: delete prompts, the audit trail, channel bindings. SQLAlchemy 2."""

from bot.storage.store import Claim, Store, database_url

__all__ = ["Claim", "Store", "database_url"]
