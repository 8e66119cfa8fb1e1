"""The shapes WhatConverts answers with."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Profile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    profile_id: int
    profile_name: str | None = None
    date_created: datetime | None = None


class ProfilePage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page_number: int = 1
    profiles_per_page: int = 25
    total_pages: int = 0
    total_profiles: int = 0
    profiles: list[Profile] = Field(default_factory=list)


class Deleted(BaseModel):
    """A profile is gone. `already_gone`: a retried DELETE found it deleted by our first try."""

    profile_id: int
    already_gone: bool = False


class Account(BaseModel):
    model_config = ConfigDict(extra="ignore")

    account_id: int
    account_name: str | None = None
    date_created: datetime | None = None
    profiles: list[dict] = Field(default_factory=list)


class AccountPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page_number: int = 1
    accounts_per_page: int = 25
    total_pages: int = 0
    total_accounts: int = 0
    accounts: list[Account] = Field(default_factory=list)
