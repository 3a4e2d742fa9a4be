"""A member's response to a round and the answers in it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, utcnow

if TYPE_CHECKING:
    from surveyapp.models.panel import PanelMember
    from surveyapp.models.round import Item, Round


class ResponseState(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("member_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("panel_members.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    state: Mapped[ResponseState] = mapped_column(default=ResponseState.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    member: Mapped[PanelMember] = relationship()
    round: Mapped[Round] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )

    def submit(self, now: datetime) -> None:
        """Mark the response submitted; submitting again keeps the first moment."""
        self.state = ResponseState.SUBMITTED
        self.updated_at = now
        if self.submitted_at is None:
            self.submitted_at = now


class Answer(Base):
    """One item's answer: a rating (or an explicit "no opinion"), a text, a rationale."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    value: Mapped[int | None]
    no_opinion: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str | None] = mapped_column(Text)
    rationale: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship(back_populates="answers")
    item: Mapped[Item] = relationship()
