"""Tables. Change them only together with a new migration in `migrations/versions/`."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class DeletePrompt(Base):
    """A delete waiting for its confirmation. Its buttons carry only `id`."""

    __tablename__ = "delete_prompts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    profile_name: Mapped[str] = mapped_column(Text)
    requester: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # pending -> claimed -> deleted | gone | failed; pending -> cancelled; claimed -> pending
    # again only when the DELETE certainly never left.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One write or one refusal: who, where, what, and how it ended."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    verb: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    profile_id: Mapped[int | None] = mapped_column(BigInteger)
    old_name: Mapped[str | None] = mapped_column(Text)
    new_name: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class ChannelBinding(Base):
    """A channel whose commands may leave out the account."""

    __tablename__ = "channel_bindings"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    bound_by: Mapped[str] = mapped_column(String(32))
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
