"""Rounds, their state machine, and the items they ask."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base

if TYPE_CHECKING:
    from surveyapp.models.response import Answer
    from surveyapp.models.study import Study, Theme


class RoundState(enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class IllegalTransition(Exception):
    """A round was asked to move to a state it cannot reach from where it is."""


class ItemKind(enum.Enum):
    OPEN = "open"
    LIKERT = "likert"


SCALE_POINTS = (5, 7, 9)

statement_sources = Table(
    "statement_sources",
    Base.metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("answer_id", ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True),
)


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("study_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200), default="")
    introduction: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[RoundState] = mapped_column(default=RoundState.DRAFT)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]

    study: Mapped[Study] = relationship(back_populates="rounds")
    items: Mapped[list[Item]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="Item.position"
    )

    @property
    def is_open(self) -> bool:
        return self.state is RoundState.OPEN

    def open(self, now: datetime) -> None:
        """Open a draft round for answers."""
        if self.state is not RoundState.DRAFT:
            raise IllegalTransition(f"round {self.number} is {self.state.value}, not draft")
        if not self.items:
            raise IllegalTransition(f"round {self.number} has no items")
        self.state = RoundState.OPEN
        self.opened_at = now

    def close(self, now: datetime) -> None:
        """Close an open round; answers are final from now on."""
        if self.state is not RoundState.OPEN:
            raise IllegalTransition(f"round {self.number} is {self.state.value}, not open")
        self.state = RoundState.CLOSED
        self.closed_at = now


class Item(Base):
    """One question of a round: an open question or a statement rated on a Likert scale."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    previous_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[ItemKind]
    text: Mapped[str] = mapped_column(Text)
    scale_points: Mapped[int | None]
    scale_labels: Mapped[list[str] | None] = mapped_column(JSON)
    ask_rationale: Mapped[bool] = mapped_column(default=True)

    round: Mapped[Round] = relationship(back_populates="items")
    section: Mapped[Theme | None] = relationship()
    previous_item: Mapped[Item | None] = relationship(remote_side=[id])
    sources: Mapped[list[Answer]] = relationship(secondary=statement_sources)

    @property
    def is_rating(self) -> bool:
        return self.kind is ItemKind.LIKERT
