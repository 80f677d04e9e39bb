"""The models, one module per family. Importing this package registers every table."""

from webapp.models.assessment import (  # noqa: F401, E501
    ConflictDeclaration,
    Consensus,
    EligibilityScreening,
    PoolInvitation,
    RankingMove,
    Review,
    ReviewAssignment,
    ReviewerProfile,
    ReviewReminder,
    ReviewScore,
)
from webapp.models.audit import AuditEvent, OutboxMessage
from webapp.models.calls import Call, CallAttachmentKind, CallCriterion, CooperationAgreement, Theme  # noqa: F401, E501
from webapp.models.decisions import (  # noqa: F401, E501
    AgreementParty,
    AwardedStructure,
    BackgroundJob,
    CommitteeMember,
    RedressRequest,
    StructureAgreement,
)
from webapp.models.documents import IssuedDocument
from webapp.models.proposals import Attachment, BudgetLine, Proposal, Submission, Team
from webapp.models.reference import Country, Institution, InstrumentConfig
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.user import User, UserRole, normalise_email

__all__ = [
    "Attachment",
    "BudgetLine",
    "IssuedDocument",
    "Proposal",
    "Submission",
    "Team",
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
