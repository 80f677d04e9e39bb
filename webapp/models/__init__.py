"""The models, one module per family. Importing this package registers every table."""

from webapp.models.audit import AuditEvent, OutboxMessage
from webapp.models.calls import Call, CallAttachmentKind, CallCriterion, CooperationAgreement, Theme  # noqa: F401, E501
from webapp.models.reference import Country, Institution, InstrumentConfig
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.user import User, UserRole, normalise_email

__all__ = [
    "AuditEvent",
    "Country",
    "Institution",
    "InstrumentConfig",
    "OutboxMessage",
    "UTCDateTime",
    "User",
    "UserRole",
    "normalise_email",
    "utcnow",
]
