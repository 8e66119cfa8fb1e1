"""Client for the WhatConverts profiles API. It knows nothing of Slack."""

from bot.whatconverts.client import WhatConverts
from bot.whatconverts.errors import (
    CredentialsRefused,
    InputRejected,
    NotFound,
    QuotaExhausted,
    RateLimited,
    Unavailable,
    WhatConvertsError,
)
from bot.whatconverts.models import Account, AccountPage, Deleted, Profile, ProfilePage

__all__ = [
    "Account",
    "AccountPage",
    "CredentialsRefused",
    "Deleted",
    "InputRejected",
    "NotFound",
    "Profile",
    "ProfilePage",
    "QuotaExhausted",
    "RateLimited",
    "Unavailable",
    "WhatConverts",
    "WhatConvertsError",
]
