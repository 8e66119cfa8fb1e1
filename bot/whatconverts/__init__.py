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
from bot.whatconverts.models import Deleted, Profile, ProfilePage

__all__ = [
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
