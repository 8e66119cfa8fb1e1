"""Reads and writes of the bot's own records. Every multi-process guarantee lives here."""

import enum
import functools
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import (
    and_,
    column,
    create_engine,
    delete,
    func,
    inspect,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from bot.storage.tables import AuditEntry, ChannelBinding, DeletePrompt

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///profiles.db"
# Longer than any click's work can take (two WhatConverts calls of at most a minute each).
ABANDONED_CLAIM_SECONDS = 180


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
    # Every one of the 16 workers (WORKERS) and Bolt's 5 listener threads, which read the
    # channel binding before they ack, may hold a connection at once, with room for /readyz. An
    # ack cannot wait long for one (Slack allows 3 s), so a pool that is somehow full fails fast.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=5)


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

    def is_migrated(self) -> bool:
        """The readiness check: raises when the database cannot be reached; answers False when
        its schema is older than this code's migrations (or has none)."""
        # Alembic's own version table, read directly: its MigrationContext says the same but logs
        # two lines each time, and load balancers poll /readyz every few seconds.
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return False
            versions = table("alembic_version", column("version_num"))
            applied = set(connection.scalars(select(versions.c.version_num)))
        known, heads = _migration_revisions()
        # A revision this code does not know is a newer release's, which migrated first: the
        # schema is ahead, and an older process still serving during the deploy is ready.
        behind = (applied & known) - heads
        return bool(applied) and not behind

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
        row = self._row(prompt_id)
        return _prompt(row) if row else None

    def _row(self, prompt_id: str) -> DeletePrompt | None:
        with self._sessions() as session:
            return session.get(DeletePrompt, prompt_id)

    def claim_prompt(self, prompt_id: str, user: str, is_admin: bool,
                     to_state: str = "claimed") -> tuple[Claim, Prompt | None]:
        """Atomically move a pending prompt to `to_state`; exactly one caller ever wins.

        A confirm may also take over a claim abandoned for `ABANDONED_CLAIM_SECONDS`: the process
        that made it died between the click and the answer. Its DELETE may have gone out, so the
        new one can only find the profile gone, which is reported as such: never a lost delete,
        never a second profile deleted.
        """
        row = self._row(prompt_id)
        if row is None:
            return Claim.UNKNOWN, None
        if user != row.requester and not is_admin:
            return Claim.FORBIDDEN, _prompt(row)

        now = _now()
        claimable = and_(DeletePrompt.state == "pending", DeletePrompt.expires_at > now)
        if to_state == "claimed":
            abandoned = now - timedelta(seconds=ABANDONED_CLAIM_SECONDS)
            claimable = or_(claimable, and_(DeletePrompt.state == "claimed",
                                            DeletePrompt.decided_at < abandoned))
        with self._sessions.begin() as session:
            won = session.execute(
                update(DeletePrompt)
                .where(DeletePrompt.id == prompt_id, claimable)
                .values(state=to_state, decided_by=user, decided_at=now)
            ).rowcount
        if won == 1:
            return Claim.CLAIMED, _prompt(row)

        latest = self._row(prompt_id)
        if latest.state == "pending" and _aware(latest.expires_at) <= now:
            return Claim.EXPIRED, _prompt(latest)
        return Claim.ANSWERED, _prompt(latest)

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


@functools.cache
def _migration_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Every revision this code's migrations know, and their heads: read from disk once."""
    from bot.storage.migrate import MIGRATIONS  # migrate imports this module

    script = ScriptDirectory(str(MIGRATIONS))
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return known, frozenset(script.get_heads())


def _now() -> datetime:
    return datetime.now(UTC)


def _prompt(row: DeletePrompt) -> Prompt:
    return Prompt(row.id, row.account_id, row.profile_id, row.profile_name, row.requester,
                  row.channel, row.state)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def _entry(row: AuditEntry) -> Entry:
    at = _aware(row.at)
    return Entry(at, row.user_id, row.channel, row.verb, row.account_id, row.profile_id,
                 row.old_name, row.new_name, row.outcome)
