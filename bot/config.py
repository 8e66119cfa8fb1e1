"""Settings, read once from the environment or a `.env` file."""

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and never its value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr
    slack_api_url: str | None = Field(
        default=None, description="Slack's Web API base URL; set only by tests and the demo."
    )

    whatconverts_api_token: SecretStr
    whatconverts_api_secret: SecretStr
    whatconverts_api_url: str = "https://app.whatconverts.com/api/v1"

    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"

    # How many commands and clicks are worked on at once, and how many may wait.
    workers: int = Field(default=16, ge=1, le=256)
    work_queue: int = Field(default=200, ge=0, le=10_000)
    # Concurrent requests to WhatConverts from one process; the API allows 20.
    upstream_concurrency: int = Field(default=10, ge=1, le=20)
    upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=30)

    # A delete prompt can be confirmed for this long.
    confirm_ttl_seconds: int = Field(default=600, ge=10, le=1800)


def load_settings(**overrides) -> Settings:
    """Build Settings, turning pydantic's error (which prints inputs) into one naming fields only."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_input=False, include_url=False):
            name = "_".join(str(part) for part in detail["loc"]).upper()
            reason = "is required" if detail["type"] == "missing" else detail["msg"].lower()
            problems.append(f"{name} {reason}")
        raise SettingsError("Settings problem: " + "; ".join(problems)) from None
