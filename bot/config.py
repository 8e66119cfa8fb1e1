"""Settings, read once from the environment or a `.env` file."""

import re
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as UndecodableSetting

UserIds = Annotated[frozenset[str], NoDecode]


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and never its value."""

    def __init__(self, problems: list[str]):
        super().__init__("Settings problem: " + "; ".join(problems))
        self.problems = problems

    def advice(self) -> str:
        """The message and where to fix it, as start-up prints it."""
        what = "it" if len(self.problems) == 1 else "them"
        return f"{self}. Set {what} in the environment or in a .env file."


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: SecretStr
    # Socket Mode when set (an app-level token, xapp-...); HTTP otherwise.
    slack_app_token: SecretStr | None = None
    # Required for HTTP; Socket Mode does without it.
    slack_signing_secret: SecretStr | None = Field(default=None, validate_default=True)
    slack_api_url: str | None = Field(
        default=None, description="Slack's Web API base URL; set only by tests and the demo."
    )

    whatconverts_api_token: SecretStr
    whatconverts_api_secret: SecretStr
    whatconverts_api_url: str = "https://app.whatconverts.com/api/v1"

    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # How many commands and clicks are worked on at once, and how many may wait.
    workers: int = Field(default=16, ge=1, le=256)
    work_queue: int = Field(default=200, ge=0, le=10_000)
    # Concurrent requests to WhatConverts from one process; the API allows 20.
    upstream_concurrency: int = Field(default=10, ge=1, le=20)
    # Read timeout of one request; with retries (see CappedRetry) an answer comes within 60 s.
    upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=10)

    # A delete prompt can be confirmed for this long.
    confirm_ttl_seconds: int = Field(default=600, ge=10, le=1800)

    # Where prompts, the audit trail and channel bindings live; a SQLite file by default.
    database_url: SecretStr | None = None
    # Slack user ids, comma-separated. Empty WRITE_USERS: every full member may write.
    write_users: UserIds = frozenset()
    admin_users: UserIds = frozenset()
    # JSON: channel id -> the account ids commands there may use, e.g. {"C0123": [1001, 1002]}.
    channel_accounts: dict[str, frozenset[int]] = Field(default_factory=dict)
    # Announce creates, renames and deletes in the channel where they happened.
    announce_changes: bool = True
    log_format: str = Field(default="text", pattern="^(text|json)$")

    @field_validator("slack_app_token")
    @classmethod
    def _app_level_token(cls, value):
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token, starting with xapp-")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret_unless_socket_mode(cls, value, info: ValidationInfo):
        if value is None and info.data.get("slack_app_token") is None:
            raise ValueError("is required (or SLACK_APP_TOKEN, for Socket Mode)")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _any_case(cls, value):
        return value.upper() if isinstance(value, str) else value

    @field_validator("write_users", "admin_users", mode="before")
    @classmethod
    def _split_user_ids(cls, value):
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value


def load_settings(**overrides) -> Settings:
    """Build Settings; pydantic's error prints inputs, so it becomes one that names fields only."""
    try:
        return Settings(**overrides)
    except UndecodableSetting as error:
        # pydantic-settings decodes CHANNEL_ACCOUNTS (any dict or list) as JSON before pydantic
        # validates it, and raises its own error; that one names the field, its cause the text.
        field = re.search(r'field "(\w+)"', str(error))
        name = field.group(1).upper() if field else "a setting"
        raise SettingsError([f"{name} must be valid JSON"]) from None
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_input=False, include_url=False):
            # Only the field: the rest of the location is in the value (a channel id, an index).
            name = str(detail["loc"][0]).upper()
            reason = detail["msg"].removeprefix("Value error, ")
            if detail["type"] == "missing":
                reason = "is required"
            else:
                reason = reason[0].lower() + reason[1:]
            if f"{name} {reason}" not in problems:
                problems.append(f"{name} {reason}")
        raise SettingsError(problems) from None


def require_http(settings: Settings) -> None:
    """Serving HTTP needs the signing secret, which Socket Mode (SLACK_APP_TOKEN) does without."""
    if settings.slack_signing_secret is None:
        raise SettingsError(["SLACK_SIGNING_SECRET is required to serve HTTP (with "
                             "SLACK_APP_TOKEN set, `python -m bot` connects over Socket Mode)"])
