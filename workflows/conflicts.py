"""Conflicts of interest between reviewers and proposals (DOMAIN.md section 5).

Two sources, both refusing an assignment:

- **declared** by the reviewer before opening a proposal (`ConflictKind`): "no conflict", or a
  typed conflict that removes the assignment;
- **detected** automatically before assignment (`detect_conflicts`): the reviewer works at the
  same institution as a team of the proposal, has an e-mail address in the same domain as a
  team leader (or as a team's institution), or is named in the proposal (as a team leader,
  coordinator or co-coordinator, or by full name in its text, e.g. among joint publications).

Detection errs on the side of caution: a false positive only costs the manager a look, a missed
conflict costs the assessment its fairness. Public webmail domains are ignored (two researchers
with Gmail addresses have no institution in common). National research organisations spread
over hundreds of laboratories (Inserm, CNRS: `UMBRELLA_INSTITUTIONS`, `UMBRELLA_DOMAINS`) are
not one institution for this purpose: every proposal has an Inserm team and most internal
reviewers are Inserm staff, so there the **unit** (its code, e.g. U1234) stands for the
institution.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class ConflictKind(StrEnum):
    """What a reviewer declares about a proposal before opening it."""

    NONE = "none"
    SAME_INSTITUTION = "same_institution"
    COAUTHOR_5Y = "coauthor_5y"  # co-author in the last five years
    SUPERVISOR_STUDENT = "supervisor_student"
    PERSONAL = "personal"
    OTHER = "other"


#: The typed conflicts (every kind but "none").
CONFLICT_KINDS: tuple[ConflictKind, ...] = tuple(k for k in ConflictKind if k is not ConflictKind.NONE)


class DetectedReason(StrEnum):
    SAME_INSTITUTION = "same_institution"
    SAME_EMAIL_DOMAIN = "same_email_domain"
    NAMED_IN_PROPOSAL = "named_in_proposal"


#: Domains shared by unrelated people: never a sign of a common institution.
PUBLIC_EMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.fr", "hotmail.com", "hotmail.fr",
        "outlook.com", "outlook.fr", "live.com", "live.fr", "msn.com", "icloud.com", "me.com",
        "aol.com", "free.fr", "orange.fr", "wanadoo.fr", "laposte.net", "sfr.fr", "gmx.com",
        "gmx.de", "gmx.net", "web.de", "protonmail.com", "proton.me", "qq.com", "163.com",
        "126.com", "yandex.ru", "mail.ru", "uol.com.br", "bol.com.br", "naver.com",
    }
)  # fmt: skip


#: Organisations too large to make their members conflicted: their units are compared instead.
UMBRELLA_INSTITUTIONS: frozenset[str] = frozenset(
    {"inserm", "cnrs", "institut national de la sante et de la recherche medicale",
     "centre national de la recherche scientifique"}
)  # fmt: skip
UMBRELLA_DOMAINS: frozenset[str] = frozenset({"inserm.fr", "cnrs.fr"})


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation turned to spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def email_domain(email: str) -> str:
    """The domain of an address, lower case ("" when there is none)."""
    _, at, domain = (email or "").strip().rpartition("@")
    return domain.strip().lower().rstrip(".") if at else ""


def same_domain(a: str, b: str) -> bool:
    """Equal domains, or one a subdomain of the other (``inserm.fr`` and ``u1234.inserm.fr``).

    Public webmail domains and the umbrella organisations' domains never match.
    """
    a, b = a.lower().strip("."), b.lower().strip(".")
    ignored = PUBLIC_EMAIL_DOMAINS | UMBRELLA_DOMAINS
    if not a or not b or a in ignored or b in ignored:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


@dataclass(frozen=True)
class ReviewerFacts:
    """What detection knows about a reviewer."""

    email: str
    first_name: str = ""
    last_name: str = ""
    institution_id: int | None = None
    institution_name: str = ""
    institution_domain: str = ""  # the e-mail domain of the reviewer's institution, if known
    unit_code: str = ""  # e.g. U1234, for reviewers in an Inserm (or CNRS) unit


@dataclass(frozen=True)
class TeamFacts:
    """One team of a proposal, as far as conflicts go."""

    leader_name: str = ""
    leader_email: str = ""
    institution_id: int | None = None
    institution_name: str = ""
    institution_domain: str = ""
    unit_code: str = ""


@dataclass(frozen=True)
class ProposalFacts:
    """The people and institutions of a proposal, and the texts that may name someone."""

    teams: tuple[TeamFacts, ...] = ()
    people_emails: tuple[str, ...] = ()  # coordinator, co-coordinator
    people_names: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()  # history and joint publications, programme...

    def __post_init__(self) -> None:
        for name in ("teams", "people_emails", "people_names", "texts"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class DetectedConflict:
    """A reason to keep a reviewer away from a proposal; ``detail`` names what matched."""

    reason: DetectedReason
    detail: str = ""

    @property
    def message(self) -> str:
        return {
            DetectedReason.SAME_INSTITUTION: f"Same institution as a team ({self.detail}).",
            DetectedReason.SAME_EMAIL_DOMAIN: f"Same e-mail domain as a team ({self.detail}).",
            DetectedReason.NAMED_IN_PROPOSAL: f"Named in the proposal ({self.detail}).",
        }[self.reason]


def _full_name_forms(first: str, last: str) -> list[str]:
    first, last = normalise(first), normalise(last)
    # A single short token ("Li", "Ng") would match too much text: require both names.
    if len(first) < 2 or len(last) < 2:
        return []
    return [f"{first} {last}", f"{last} {first}"]


def _contains_words(haystack: str, needle: str) -> bool:
    return bool(needle) and f" {needle} " in f" {haystack} "


def detect_conflicts(reviewer: ReviewerFacts, proposal: ProposalFacts) -> list[DetectedConflict]:
    """Every automatic reason to keep ``reviewer`` away from ``proposal`` (empty: none found)."""
    found: list[DetectedConflict] = []

    def add(reason: DetectedReason, detail: str) -> None:
        conflict = DetectedConflict(reason, detail)
        if conflict not in found:
            found.append(conflict)

    reviewer_institution = normalise(reviewer.institution_name)
    reviewer_unit = normalise(reviewer.unit_code)
    reviewer_domains = [d for d in (email_domain(reviewer.email), reviewer.institution_domain.lower()) if d]
    for team in proposal.teams:
        team_institution = normalise(team.institution_name)
        team_unit = normalise(team.unit_code)
        if reviewer_unit and reviewer_unit == team_unit:
            add(DetectedReason.SAME_INSTITUTION, f"{team.institution_name} {team.unit_code}".strip())
        elif team_institution in UMBRELLA_INSTITUTIONS or reviewer_institution in UMBRELLA_INSTITUTIONS:
            pass  # the unit decides (above)
        elif reviewer.institution_id is not None and reviewer.institution_id == team.institution_id:
            add(DetectedReason.SAME_INSTITUTION, team.institution_name or "institution")
        elif reviewer_institution and reviewer_institution == team_institution:
            add(DetectedReason.SAME_INSTITUTION, team.institution_name)
        team_domains = [d for d in (email_domain(team.leader_email), team.institution_domain.lower()) if d]
        for mine in reviewer_domains:
            for theirs in team_domains:
                if same_domain(mine, theirs):
                    add(DetectedReason.SAME_EMAIL_DOMAIN, theirs)
    own_email = reviewer.email.strip().lower()
    emails = {e.strip().lower() for e in proposal.people_emails} | {
        t.leader_email.strip().lower() for t in proposal.teams
    }
    if own_email and own_email in emails:
        add(DetectedReason.NAMED_IN_PROPOSAL, reviewer.email)
    forms = _full_name_forms(reviewer.first_name, reviewer.last_name)
    if forms and not any(c.reason is DetectedReason.NAMED_IN_PROPOSAL for c in found):
        names = [normalise(n) for n in (*proposal.people_names, *(t.leader_name for t in proposal.teams))]
        texts = [normalise(t) for t in proposal.texts]
        for form in forms:
            if any(form == n for n in names) or any(_contains_words(t, form) for t in texts):
                add(DetectedReason.NAMED_IN_PROPOSAL, f"{reviewer.first_name} {reviewer.last_name}".strip())
                break
    return found


@dataclass(frozen=True)
class Screened:
    """A reviewer's standing towards a proposal: the declared kind (if any) and detections."""

    declared: ConflictKind | None = None
    detected: tuple[DetectedConflict, ...] = field(default_factory=tuple)

    @property
    def conflicted(self) -> bool:
        return bool(self.detected) or (self.declared is not None and self.declared is not ConflictKind.NONE)


def is_conflicted(declared: ConflictKind | str | None, detected: Sequence[DetectedConflict]) -> bool:
    """Whether a reviewer must stay away: any detection, or any declared kind but "none"."""
    return Screened(None if declared is None else ConflictKind(declared), tuple(detected)).conflicted
