"""Accounts: password hashing (argon2id), authentication, creation."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Coordinator, utcnow

MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """An account could not be created as asked."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def find_coordinator(email: str) -> Coordinator | None:
    return db.session.scalar(
        select(Coordinator).where(func.lower(Coordinator.email) == email.strip().lower())
    )


def load_coordinator(coordinator_id: str) -> Coordinator | None:
    """Flask-Login's user loader."""
    try:
        return db.session.get(Coordinator, int(coordinator_id))
    except ValueError:
        return None


def authenticate(email: str, password: str) -> Coordinator | None:
    """Return the active coordinator with these credentials, or None."""
    coordinator = find_coordinator(email)
    stored = coordinator.password_hash if coordinator is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if coordinator is None or not coordinator.active:
        return None
    if _hasher.check_needs_rehash(coordinator.password_hash):
        coordinator.password_hash = hash_password(password)
    coordinator.last_login_at = utcnow()
    return coordinator


def create_coordinator(email: str, password: str, *, is_admin: bool = False) -> Coordinator:
    """Add a coordinator account to the session; refuse duplicates and short passwords."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(_l("%(email)s is not an email address", email=email))
    if find_coordinator(email) is not None:
        raise AccountError(_l("an account for %(email)s exists already", email=email))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("the password needs at least %(n)d characters", n=MIN_PASSWORD_LENGTH)
        )
    coordinator = Coordinator(email=email, password_hash=hash_password(password), is_admin=is_admin)
    db.session.add(coordinator)
    return coordinator


def list_coordinators() -> list[Coordinator]:
    return list(db.session.scalars(select(Coordinator).order_by(Coordinator.email)))


def set_active(actor: Coordinator, coordinator: Coordinator, active: bool) -> None:
    """Let an account log in again, or stop it from logging in; never one's own."""
    if coordinator.id == actor.id and not active:
        raise AccountError(_l("you cannot switch off your own account"))
    coordinator.active = active
