"""Record coordinator actions in the audit log."""

from __future__ import annotations

from typing import Any

from surveyapp.extensions import db
from surveyapp.models import AuditEntry, Coordinator, Study


def record_action(
    actor: Coordinator | None, action: str, study: Study | None = None, **detail: Any
) -> AuditEntry:
    """Add an audit entry to the session (the caller commits)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        study_id=study.id if study is not None else None,
        action=action,
        detail=detail,
    )
    db.session.add(entry)
    return entry
