"""The mail outbox: messages are queued in the transaction that causes them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.models.base import Base, utcnow


class MailState(enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # A newer mail to the same member replaced it before it went out: its link was dead.
    # The row stays (without a body) so that who was invited remains countable.
    SUPERSEDED = "superseded"


class OutboxMessage(Base):
    """A queued email. The body holds a personal link, so it is erased once delivered."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("studies.id", ondelete="SET NULL"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("panel_members.id", ondelete="SET NULL"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    state: Mapped[MailState] = mapped_column(default=MailState.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
