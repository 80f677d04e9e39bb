"""Who acts on the platform (DOMAIN.md section 2)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A role a transition can be taken in; the web layer decides which one a user acts in."""

    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    MANAGER = "manager"  # programme manager, international affairs department
    DIRECTORATE = "directorate"  # the Directorate-General or its delegate
    ADMIN = "admin"
    SYSTEM = "system"  # the platform itself (scheduled jobs, "all reviews are in")


#: The roles an account can hold. SYSTEM is the platform itself and never an account.
ACCOUNT_ROLES: tuple[Role, ...] = (
    Role.APPLICANT,
    Role.REVIEWER,
    Role.MANAGER,
    Role.DIRECTORATE,
    Role.ADMIN,
)
