"""Reads and writes of the bot's own records. Every multi-process guarantee lives here."""

import enum
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from bot.storage.tables import AuditEntry, ChannelBinding, DeletePrompt

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///profiles.db"


def database_url(raw: str | None) -> str:
    """SQLAlchemy's URL for a setting; Heroku's `postgres://` form becomes psycopg 3's."""
    url = raw or DEFAULT_URL
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Threads share the file; wait for a lock instead of failing at once.
        return create_engine(url, connect_args={"timeout": 15})
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Claim(enum.Enum):
    CLAIMED = "claimed"
    FORBIDDEN = "forbidden"  # not the person who asked, nor an admin
    EXPIRED = "expired"
    ANSWERED = "answered"  # already confirmed or cancelled
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Prompt:
    id: str
    account_id: int
    profile_id: int
    profile_name: str
    requester: str
    channel: str
    state: str


@dataclass(frozen=True)
class Entry:
    at: datetime
    user_id: str
    channel: str
    verb: str
    account_id: int | None
    profile_id: int | None
    old_name: str | None
    new_name: str | None
    outcome: str


class Store:
    def __init__(self, url: str):
        self.engine = create_db_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raises when the database cannot be reached (the readiness check)."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    # Delete prompts

    def create_prompt(self, account_id: int, profile_id: int, profile_name: str,
                      requester: str, channel: str, ttl_seconds: float) -> Prompt:
        now = _now()
        row = DeletePrompt(
            id=secrets.token_urlsafe(16), account_id=account_id, profile_id=profile_id,
            profile_name=profile_name, requester=requester, channel=channel,
            created_at=now, expires_at=now + timedelta(seconds=ttl_seconds), state="pending",
        )
        with self._sessions.begin() as session:
            session.add(row)
        return _prompt(row)

    def get_prompt(self, prompt_id: str) -> Prompt | None:
        with self._sessions() as session:
            row = session.get(DeletePrompt, prompt_id)
            return _prompt(row) if row else None

    def claim_prompt(self, prompt_id: str, user: str, is_admin: bool,
                     to_state: str = "claimed") -> tuple[Claim, Prompt | None]:
        """Atomically move a pending prompt to `to_state`; exactly one caller ever wins."""
        prompt = self.get_prompt(prompt_id)
        if prompt is None:
            return Claim.UNKNOWN, None
        if user != prompt.requester and not is_admin:
            return Claim.FORBIDDEN, prompt

        now = _now()
        with self._sessions.begin() as session:
            won = session.execute(
                update(DeletePrompt)
                .where(DeletePrompt.id == prompt_id, DeletePrompt.state == "pending",
                       DeletePrompt.expires_at > now)
                .values(state=to_state, decided_by=user, decided_at=now)
            ).rowcount
        if won == 1:
            return Claim.CLAIMED, prompt

        latest = self.get_prompt(prompt_id)
        if latest.state == "pending":
            return Claim.EXPIRED, latest
        return Claim.ANSWERED, latest

    def settle_prompt(self, prompt_id: str, state: str) -> None:
        """Record how a claimed prompt ended; "pending" hands it back for another try."""
        with self._sessions.begin() as session:
            session.execute(update(DeletePrompt).where(DeletePrompt.id == prompt_id)
                            .values(state=state))

    def forget_prompts_before(self, cutoff: datetime) -> int:
        with self._sessions.begin() as session:
            return session.execute(
                delete(DeletePrompt).where(DeletePrompt.expires_at < cutoff)
            ).rowcount

    # Audit trail

    def record(self, *, user_id: str, channel: str, verb: str, outcome: str,
               account_id: int | None = None, profile_id: int | None = None,
               old_name: str | None = None, new_name: str | None = None,
               detail: str | None = None) -> None:
        entry = AuditEntry(
            at=_now(), user_id=user_id, channel=channel, verb=verb, account_id=account_id,
            profile_id=profile_id, old_name=old_name, new_name=new_name, outcome=outcome,
            detail=detail,
        )
        with self._sessions.begin() as session:
            session.add(entry)

    def audit_page(self, account_id: int | None, page: int, per_page: int
                   ) -> tuple[list[Entry], int]:
        """Newest first; answers one page of entries and the total count."""
        query = select(AuditEntry)
        count = select(func.count()).select_from(AuditEntry)
        if account_id is not None:
            query = query.where(AuditEntry.account_id == account_id)
            count = count.where(AuditEntry.account_id == account_id)
        query = (query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                 .offset((page - 1) * per_page).limit(per_page))
        with self._sessions() as session:
            total = session.scalar(count)
            rows = session.scalars(query).all()
        return [_entry(row) for row in rows], total

    # Channel bindings

    def bind_channel(self, channel: str, account_id: int, user: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(ChannelBinding, channel)
            if row is None:
                session.add(ChannelBinding(channel=channel, account_id=account_id, bound_by=user,
                                           bound_at=_now()))
            else:
                row.account_id, row.bound_by, row.bound_at = account_id, user, _now()

    def channel_account(self, channel: str) -> int | None:
        with self._sessions() as session:
            row = session.get(ChannelBinding, channel)
            return row.account_id if row else None

    def unbind_channel(self, channel: str) -> bool:
        with self._sessions.begin() as session:
            return session.execute(
                delete(ChannelBinding).where(ChannelBinding.channel == channel)
            ).rowcount == 1


def _now() -> datetime:
    return datetime.now(UTC)


def _prompt(row: DeletePrompt) -> Prompt:
    return Prompt(row.id, row.account_id, row.profile_id, row.profile_name, row.requester,
                  row.channel, row.state)


def _entry(row: AuditEntry) -> Entry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite drops the zone
    return Entry(at, row.user_id, row.channel, row.verb, row.account_id, row.profile_id,
                 row.old_name, row.new_name, row.outcome)
