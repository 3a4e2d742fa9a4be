"""Quotes: anonymised excerpts of open answers, placed in a section of the anthology."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, utcnow

if TYPE_CHECKING:
    from surveyapp.models.response import Answer
    from surveyapp.models.study import Theme


class Quote(Base):
    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # Quotes of one group stand together in the section, set apart from the next group;
    # by default a group is the question the answer came from.
    group: Mapped[int] = mapped_column(default=1)
    included: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    answer: Mapped[Answer] = relationship()
    section: Mapped[Theme] = relationship()
