"""The domain model, one module per aggregate."""

from surveyapp.models.account import Coordinator
from surveyapp.models.audit import AuditEntry
from surveyapp.models.base import Base, utcnow
from surveyapp.models.build import AnthologyBuild, BuildState
from surveyapp.models.mail import MailState, OutboxMessage
from surveyapp.models.panel import InvitationToken, PanelMember, hash_token
from surveyapp.models.quote import Quote
from surveyapp.models.response import Answer, Response, ResponseState
from surveyapp.models.round import (
    SCALE_POINTS,
    IllegalTransition,
    Item,
    ItemKind,
    Round,
    RoundState,
    statement_sources,
)
from surveyapp.models.study import PanelGroup, RuleFixedError, Study, Theme, study_coordinators

__all__ = [
    "SCALE_POINTS",
    "Answer",
    "AnthologyBuild",
    "AuditEntry",
    "Base",
    "BuildState",
    "Coordinator",
    "IllegalTransition",
    "InvitationToken",
    "Item",
    "ItemKind",
    "MailState",
    "OutboxMessage",
    "PanelGroup",
    "PanelMember",
    "Quote",
    "Response",
    "ResponseState",
    "Round",
    "RoundState",
    "RuleFixedError",
    "Study",
    "Theme",
    "hash_token",
    "statement_sources",
    "study_coordinators",
    "utcnow",
]
