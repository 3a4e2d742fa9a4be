"""Panel members and their personal link tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.models.base import Base, utcnow

if TYPE_CHECKING:
    from surveyapp.models.study import PanelGroup, Study

TOKEN_BYTES = 24  # 192 random bits, above the 128 the design asks for


def hash_token(token: str) -> str:
    """Return the stored form of a link token (tokens are random, so a plain SHA-256 suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


class PanelMember(Base):
    __tablename__ = "panel_members"
    __table_args__ = (UniqueConstraint("study_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("panel_groups.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    study: Mapped[Study] = relationship(back_populates="members")
    group: Mapped[PanelGroup | None] = relationship()
    token: Mapped[InvitationToken | None] = relationship(
        back_populates="member", cascade="all, delete-orphan"
    )


class InvitationToken(Base):
    """The one personal link of a member; only its hash is stored.

    Every email issues a fresh token (the raw value exists only in that email), so the
    newest link is the one that works. Revoking ends access for good.
    """

    __tablename__ = "invitation_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("panel_members.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    member: Mapped[PanelMember] = relationship(back_populates="token")

    def reissue(self, now: datetime, lifetime: timedelta | None = None) -> str:
        """Replace the stored hash with a new random token and return the raw token.

        With a lifetime the new link stops working that long from now; without one the
        expiry stays as it was.
        """
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self.token_hash = hash_token(token)
        self.issued_at = now
        if lifetime is not None:
            self.expires_at = now + lifetime
        return token

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now

    def is_valid(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at
