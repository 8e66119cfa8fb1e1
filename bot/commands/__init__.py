"""The /profiles slash command and its buttons."""
