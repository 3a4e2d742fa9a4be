"""A study and what it is made of before any round: themes, panel groups, consensus rules."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    ForeignKey,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, utcnow

if TYPE_CHECKING:
    from surveyapp.models.account import Coordinator
    from surveyapp.models.panel import PanelMember
    from surveyapp.models.round import Round

study_coordinators = Table(
    "study_coordinators",
    Base.metadata,
    Column("study_id", ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True),
    Column("coordinator_id", ForeignKey("coordinators.id", ondelete="CASCADE"), primary_key=True),
)


class RuleFixedError(Exception):
    """The consensus rules were fixed when round 1 opened and can no longer change."""


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="nl")
    footer_text: Mapped[str] = mapped_column(String(200), default="")
    introduction: Mapped[str] = mapped_column(Text, default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # PNG, JPEG or GIF
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Consensus and stop rules; fixed (and their time recorded) when round 1 opens.
    consensus_rule: Mapped[str] = mapped_column(String(200), default="agreement>=75,iqr<=1")
    agree_points: Mapped[int] = mapped_column(default=2)
    quantile_method: Mapped[str] = mapped_column(String(20), default="linear")
    stability_threshold: Mapped[float] = mapped_column(default=15.0)
    retire_stable: Mapped[bool] = mapped_column(default=True)
    round_cap: Mapped[int] = mapped_column(default=3)
    min_group_size: Mapped[int] = mapped_column(default=5)
    rule_fixed_at: Mapped[datetime | None]
    # Not a consensus rule: how feedback looks may change between rounds (see set_rules).
    feedback_by_group: Mapped[bool] = mapped_column(default=False, server_default=false())

    themes: Mapped[list[Theme]] = relationship(
        back_populates="study", cascade="all, delete-orphan", order_by="Theme.position"
    )
    groups: Mapped[list[PanelGroup]] = relationship(
        back_populates="study", cascade="all, delete-orphan", order_by="PanelGroup.name"
    )
    members: Mapped[list[PanelMember]] = relationship(
        back_populates="study", cascade="all, delete-orphan"
    )
    rounds: Mapped[list[Round]] = relationship(
        back_populates="study", cascade="all, delete-orphan", order_by="Round.number"
    )
    coordinators: Mapped[list[Coordinator]] = relationship(secondary=study_coordinators)

    @property
    def footer(self) -> str:
        return self.footer_text or self.title

    @property
    def rules_fixed(self) -> bool:
        return self.rule_fixed_at is not None

    def fix_rules(self, now: datetime) -> None:
        """Record the moment the rules became binding; later calls keep the first moment."""
        if self.rule_fixed_at is None:
            self.rule_fixed_at = now

    def set_rules(self, **rules: object) -> None:
        """Change consensus or stop rules; refused once they are fixed.

        feedback_by_group is no rule and is set on its own, also after round 1 opened.
        """
        if self.rules_fixed:
            raise RuleFixedError("the consensus rules were fixed when round 1 opened")
        for name, value in rules.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"<Study {self.slug}>"


class Theme(Base):
    """A numbered chapter (no parent) or section (parent is its chapter), e.g. `1.3`."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("study_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)

    study: Mapped[Study] = relationship(back_populates="themes")
    parent: Mapped[Theme | None] = relationship(remote_side=[id])

    @property
    def is_chapter(self) -> bool:
        return self.parent_id is None

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}".strip()

    @property
    def sort_key(self) -> tuple[int, ...]:
        """Order by number as numbers: 1.2 before 1.10."""
        return tuple(int(part) for part in self.number.split("."))


class PanelGroup(Base):
    __tablename__ = "panel_groups"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))

    study: Mapped[Study] = relationship(back_populates="groups")
