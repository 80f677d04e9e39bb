"""The Directorate-General's decisions and what follows them (DOMAIN.md sections 6 and 7).

Pure rules, no Flask and no database:

- who validates what: only the Directorate-General, only proposals a manager has proposed
  (``proposed`` / ``waitlisted`` / ``not_retained``); the whole list at once for a call with a
  deadline, one by one for a rolling call (GDRE/GDRI proposals are validated as they come);
- the budget summary the DG decides against (envelope, committed, remaining);
- the terms a decision letter states (duration, start, annual amount x years, reporting calendar,
  conditions) and the redress deadline after a released rejection;
- the parties, committees and article list of an agreement, per instrument, as data.

Amounts are whole euros per year, like the ranking's draw-down of the envelope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from workflows.errors import RuleError
from workflows.instruments import Instrument, rules_for
from workflows.proposal_states import ProposalAction, ProposalState
from workflows.roles import Role
from workflows.structure_states import first_grant_year, report_due_date
from workflows.timeutils import ensure_aware

#: States a Directorate-General decision can be taken from: what a manager proposed.
DECIDABLE_STATES: frozenset[ProposalState] = frozenset(
    {ProposalState.PROPOSED, ProposalState.WAITLISTED, ProposalState.NOT_RETAINED}
)
#: States holding a decision of the DG (released to the applicant or still pending).
DECIDED_STATES: frozenset[ProposalState] = frozenset(
    {ProposalState.AWARDED, ProposalState.REJECTED, ProposalState.AGREEMENT_PENDING}
)
#: [default] Days an applicant has to file a request for review after a released rejection.
REDRESS_DAYS = 30
#: [default] Months within which an awarded agreement must be signed (a letter condition).
AGREEMENT_SIGNATURE_MONTHS = 6
#: [default] Maximum length of the comments typed with a decision.
MAX_COMMENT = 5000


class Outcome(StrEnum):
    """The two decisions the Directorate-General takes on a proposal."""

    AWARD = "award"
    REJECT = "reject"


class DgAct(StrEnum):
    """What the DG may do with one proposal of the queue."""

    AWARD = "award"
    REJECT = "reject"
    SEND_BACK = "send_back"


#: Each act is a row of `workflows.proposal_states.MOVES`.
ACT_ACTIONS: dict[DgAct, ProposalAction] = {
    DgAct.AWARD: ProposalAction.AWARD,
    DgAct.REJECT: ProposalAction.REJECT,
    DgAct.SEND_BACK: ProposalAction.SEND_BACK,
}


class JobStatus(StrEnum):
    """A background job as the database sees it (the queue itself delivers at most once)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RedressStatus(StrEnum):
    """A request for review of a rejection: filed, then answered (upheld or dismissed)."""

    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


# --- who validates what ----------------------------------------------------------------------


def validation_problem(state: ProposalState | str, roles: Iterable[Role | str]) -> str | None:
    """Why this person may not decide on a proposal in ``state`` (``None``: they may).

    Only the Directorate-General validates, and only what a manager has proposed.
    """
    if Role.DIRECTORATE not in {Role(r) for r in roles}:
        return "only the Directorate-General validates decisions"
    if ProposalState(state) not in DECIDABLE_STATES:
        return "this proposal has not been proposed for a decision"
    return None


def act_problem(
    act: DgAct | str, comment: str, amount_eur: int | None, max_per_year_eur: int | None
) -> str | None:
    """Why the DG's act cannot be taken with what was typed (``None``: it can).

    A send-back and a rejection need a comment (the managers and the applicant are told why);
    an award needs a positive annual amount within the call's maximum per year.
    """
    act = DgAct(act)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        return f"the comment is longer than {MAX_COMMENT} characters"
    if act in (DgAct.SEND_BACK, DgAct.REJECT) and not comment:
        return "a comment is required"
    if act == DgAct.AWARD:
        if amount_eur is None or amount_eur <= 0:
            return "the annual amount must be a positive number of euros"
        if max_per_year_eur is not None and amount_eur > max_per_year_eur:
            return f"the annual amount is above the call's maximum of €{max_per_year_eur:,} a year"
    return None


def whole_list_problem(is_rolling: bool, pending: int) -> str | None:
    """Why the list of a call cannot be validated at once (``None``: it can).

    A rolling call has no list: its proposals are validated one by one as they come.
    """
    if is_rolling:
        return "proposals of a rolling call are validated one by one"
    if pending == 0:
        return "no proposal of this call awaits a decision"
    return None


def whole_list_acts(states: dict[int, ProposalState | str]) -> dict[int, DgAct]:
    """What validating a call's list does to each proposal: the main list is awarded, the
    proposals not retained are rejected, the waiting list waits for a decision one by one
    (money may free up if an awarded proposal is withdrawn)."""
    acts: dict[int, DgAct] = {}
    for key, state in states.items():
        state = ProposalState(state)
        if state == ProposalState.PROPOSED:
            acts[key] = DgAct.AWARD
        elif state == ProposalState.NOT_RETAINED:
            acts[key] = DgAct.REJECT
    return acts


def release_problem(decided_unreleased: int) -> str | None:
    """Why a call's decisions cannot be released now (``None``: they can)."""
    if decided_unreleased == 0:
        return "no validated decision is waiting to be released"
    return None


# --- the budget summary ----------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetSummary:
    """The call's envelope against what is awarded and what is still proposed, per year."""

    envelope_eur: int | None
    committed_eur: int
    proposed_eur: int

    @property
    def remaining_eur(self) -> int | None:
        """What the envelope still allows after the awards (negative: over the envelope)."""
        return None if self.envelope_eur is None else self.envelope_eur - self.committed_eur

    @property
    def remaining_after_proposed_eur(self) -> int | None:
        """What would remain if the whole main list were awarded as proposed."""
        return (
            None if self.envelope_eur is None else self.envelope_eur - self.committed_eur - self.proposed_eur
        )

    @property
    def over_envelope(self) -> bool:
        return self.remaining_eur is not None and self.remaining_eur < 0


def budget_summary(
    envelope_eur: int | None, awarded_eur: Iterable[int | None], proposed_eur: Iterable[int | None]
) -> BudgetSummary:
    """Sum the annual amounts awarded (decided) and proposed (main list, pending)."""
    return BudgetSummary(
        envelope_eur=envelope_eur,
        committed_eur=sum(a or 0 for a in awarded_eur),
        proposed_eur=sum(a or 0 for a in proposed_eur),
    )


# --- what a letter states --------------------------------------------------------------------


class Condition(StrEnum):
    """Conditions attached to an award; the letter turns each code into a sentence."""

    AGREEMENT_SIGNED = "agreement_signed"
    PARTNER_COMMITMENT = "partner_commitment"
    ETHICS_APPROVALS = "ethics_approvals"
    INSTALMENTS_ON_REPORTS = "instalments_on_reports"
    CITE_STRUCTURE = "cite_structure"
    NO_CARRY_OVER = "no_carry_over"


@dataclass(frozen=True)
class AwardTerms:
    """The money and calendar of an award, as the letter and the agreement state them."""

    duration_years: int
    start: date
    end: date
    annual_eur: int
    grant_years: tuple[int, ...]
    total_eur: int
    reporting: tuple[tuple[int, date], ...]  # (grant year, report due date)
    conditions: tuple[Condition, ...]
    agreement_within_months: int = AGREEMENT_SIGNATURE_MONTHS


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def mandate_dates(start: date, duration_years: int) -> tuple[date, date]:
    """First and last day of a mandate of ``duration_years`` starting on ``start``."""
    if duration_years < 1:
        raise RuleError("A mandate lasts at least one year.")
    return start, add_years(start, duration_years) - timedelta(days=1)


def funding_start(decided_at: datetime, call_funding_start: date | None) -> date:
    """The call's funding start, else 1 January of the first grant year (the year after the
    decision, on the Paris calendar)."""
    if call_funding_start is not None:
        return call_funding_start
    ensure_aware(decided_at, "decided_at")
    return date(first_grant_year(decided_at), 1, 1)


def award_terms(
    *,
    decided_at: datetime,
    duration_years: int,
    annual_eur: int,
    call_funding_start: date | None = None,
    partner_contribution_expected: bool = True,
) -> AwardTerms:
    """Duration, start, annual amount x years and total, reporting calendar and conditions.

    One grant per fiscal year from the start's year; the report for year n is due on
    31 January of n + 1 and releases the next instalment.
    """
    if isinstance(annual_eur, bool) or not isinstance(annual_eur, int) or annual_eur <= 0:
        raise RuleError("The annual amount of an award must be a positive number of whole euros.")
    start, end = mandate_dates(funding_start(decided_at, call_funding_start), duration_years)
    years = tuple(range(start.year, start.year + duration_years))
    conditions = [Condition.AGREEMENT_SIGNED]
    if partner_contribution_expected:
        conditions.append(Condition.PARTNER_COMMITMENT)
    conditions += [
        Condition.ETHICS_APPROVALS,
        Condition.INSTALMENTS_ON_REPORTS,
        Condition.NO_CARRY_OVER,
        Condition.CITE_STRUCTURE,
    ]
    return AwardTerms(
        duration_years=duration_years,
        start=start,
        end=end,
        annual_eur=annual_eur,
        grant_years=years,
        total_eur=annual_eur * duration_years,
        reporting=tuple((y, report_due_date(y)) for y in years),
        conditions=tuple(conditions),
    )


# --- redress ---------------------------------------------------------------------------------


def redress_deadline(released_at: datetime) -> datetime:
    """The last moment to file a request for review: 30 days after the rejection's release."""
    ensure_aware(released_at, "released_at")
    return released_at + timedelta(days=REDRESS_DAYS)


def redress_problem(
    state: ProposalState | str,
    released_at: datetime | None,
    now: datetime,
    already_filed: bool,
) -> str | None:
    """Why a request for review cannot be filed now (``None``: it can)."""
    ensure_aware(now, "now")
    if ProposalState(state) != ProposalState.REJECTED or released_at is None:
        return "a request for review follows a released rejection only"
    if already_filed:
        return "a request for review has already been filed for this proposal"
    if now > redress_deadline(released_at):
        return f"requests for review are accepted within {REDRESS_DAYS} days of the decision"
    return None


# --- agreements: parties, committees, articles -------------------------------------------------


@dataclass(frozen=True)
class TeamInfo:
    """One laboratory of the proposal as the agreement names it."""

    laboratory: str
    institution: str
    authority: str
    country_code: str
    leader: str
    is_inserm: bool = False


@dataclass(frozen=True)
class Party:
    """A signatory of the agreement: an institution, on whose side it stands."""

    name: str
    kind: str  # inserm | partner | authority | host
    country_code: str = ""


@dataclass(frozen=True)
class Member:
    """A seat on a committee of the structure."""

    committee: str  # scientific | steering | coordination | governance
    name: str
    affiliation: str
    role: str = "member"  # chair | member


INSERM = "Inserm"


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def agreement_parties(
    instrument: Instrument | str, teams: Sequence[TeamInfo], host_institution: str = ""
) -> list[Party]:
    """Who signs, per instrument (DOMAIN.md section 7).

    LEA/LIA: Inserm and the foreign team's institution. GDRE/GDRI: the authorities (tutelles) of
    all partner laboratories, Inserm first, each once. UME/UMI: Inserm and the foreign host.
    """
    instrument = Instrument(instrument)
    parties = [Party(INSERM, "inserm", "FR")]
    if instrument == Instrument.UME_UMI:
        if not host_institution.strip():
            raise RuleError("A joint unit's agreement needs the foreign host institution.")
        return parties + [Party(host_institution.strip(), "host")]
    if instrument == Instrument.GDRE_GDRI:
        for team in teams:
            name = (team.authority or team.institution).strip()
            if name and not any(_same(name, p.name) for p in parties):
                parties.append(Party(name, "authority", team.country_code))
        return parties
    foreign = [t for t in teams if t.country_code != "FR"]
    if not foreign:
        raise RuleError("An associated laboratory's agreement needs the foreign team.")
    return parties + [
        Party(foreign[0].institution.strip() or foreign[0].authority, "partner", foreign[0].country_code)
    ]


def committees(
    instrument: Instrument | str,
    teams: Sequence[TeamInfo],
    coordinator: str,
    co_coordinator: str = "",
    parties: Sequence[Party] = (),
) -> list[Member]:
    """The committees the agreement sets up, as data of the structure.

    GDRE/GDRI: a scientific committee of one representative per laboratory, chaired by the
    coordinator, and a steering committee of one representative per authority (tutelle).
    LEA/LIA: the two coordinators. UME/UMI: a governance board of one representative per party.
    """
    instrument = Instrument(instrument)
    if instrument == Instrument.GDRE_GDRI:
        members = []
        for team in teams:
            is_chair = team.is_inserm and not any(m.role == "chair" for m in members)
            name = coordinator if is_chair else (team.leader or team.laboratory)
            members.append(
                Member(
                    "scientific",
                    name,
                    f"{team.laboratory}, {team.institution}".strip(", "),
                    "chair" if is_chair else "member",
                )
            )
        seen: list[str] = []
        for team in teams:
            authority = (team.authority or team.institution).strip()
            if authority and not any(_same(authority, s) for s in seen):
                seen.append(authority)
                members.append(Member("steering", "", authority))
        return members
    if instrument == Instrument.UME_UMI:
        return [Member("governance", "", p.name) for p in parties]
    foreign = next((t for t in teams if t.country_code != "FR"), None)
    inserm = next((t for t in teams if t.is_inserm), None)
    return [
        Member("coordination", coordinator, inserm.laboratory if inserm else INSERM, "chair"),
        Member(
            "coordination",
            co_coordinator or (foreign.leader if foreign else ""),
            foreign.institution if foreign else "",
        ),
    ]


@dataclass(frozen=True)
class Article:
    """One article of an agreement, in both languages."""

    number: int
    title_fr: str
    title_en: str
    body_fr: str
    body_en: str

    def title(self, language: str) -> str:
        return self.title_fr if language.startswith("fr") else self.title_en

    def body(self, language: str) -> str:
        return self.body_fr if language.startswith("fr") else self.body_en


_NAMES = {
    Instrument.LEA_LIA: ("le laboratoire associé", "the associated laboratory"),
    Instrument.GDRE_GDRI: ("le groupement de recherche", "the research network"),
    Instrument.UME_UMI: ("l'unité mixte", "the joint unit"),
    Instrument.COOPERATION_AGREEMENT: ("la coopération", "the cooperation"),
}

_PARTIES = {
    Instrument.LEA_LIA: (
        "La présente convention est conclue entre l'Inserm et l'institution étrangère partenaire. "
        "Le laboratoire associé réunit une équipe Inserm et une équipe étrangère, chacune dirigée "
        "par un coordinateur ; les deux coordinateurs sont nommés à l'annexe 2.",
        "This agreement is made between Inserm and the partner foreign institution. The associated "
        "laboratory brings together one Inserm team and one foreign team, each led by a "
        "coordinator; the two coordinators are named in Annex 2.",
    ),
    Instrument.GDRE_GDRI: (
        "La présente convention est conclue entre les tutelles de tous les laboratoires partenaires "
        "du groupement, dont la liste figure à l'annexe 2 avec les équipes et leurs responsables.",
        "This agreement is made between the authorities (tutelles) of all partner laboratories of "
        "the network, listed in Annex 2 with the teams and their leaders.",
    ),
    Instrument.UME_UMI: (
        "La présente convention est conclue entre l'Inserm et l'institution étrangère d'accueil de "
        "l'unité mixte, qui met à sa disposition ses locaux et ses équipements.",
        "This agreement is made between Inserm and the foreign host institution of the joint unit, "
        "which provides its premises and equipment.",
    ),
}

_GOVERNANCE = {
    Instrument.LEA_LIA: (
        "Les deux coordinateurs assurent conjointement la direction scientifique du laboratoire "
        "associé. Un comité de pilotage, composé d'un représentant de chaque partie, se réunit au "
        "moins tous les deux ans ; le comité scientifique, formé des coordinateurs, se réunit au "
        "moins une fois par an. Chaque comité délibère valablement lorsque la moitié de ses membres "
        "est présente ou représentée.",
        "The two coordinators jointly lead the associated laboratory's science. A steering "
        "committee of one representative of each party meets at least every two years; the "
        "scientific committee, made of the coordinators, meets at least once a year. Each committee "
        "has a quorum when half of its members are present or represented.",
    ),
    Instrument.GDRE_GDRI: (
        "Le coordinateur préside le comité scientifique, composé d'un représentant de chaque "
        "laboratoire partenaire, qui se réunit au moins une fois par an et arrête le programme. Le "
        "comité de pilotage, composé d'un représentant de chaque tutelle, se réunit au moins tous "
        "les deux ans et veille aux moyens et à l'évaluation. Chaque comité délibère valablement "
        "lorsque la moitié de ses membres est présente ou représentée. La composition des comités "
        "figure à l'annexe 4.",
        "The coordinator chairs the scientific committee, made of one representative of each "
        "partner laboratory, which meets at least once a year and sets the programme. The steering "
        "committee, made of one representative of each authority, meets at least every two years "
        "and oversees resources and evaluation. Each committee has a quorum when half of its "
        "members are present or represented. The committees' membership is in Annex 4.",
    ),
    Instrument.UME_UMI: (
        "L'unité est dirigée par un directeur nommé conjointement par les parties, assisté d'un "
        "directeur adjoint. Un conseil de gouvernance, composé d'un représentant de chaque partie, "
        "se réunit au moins une fois par an, approuve le budget et le rapport annuel ; un comité "
        "scientifique consultatif se réunit au moins tous les deux ans. Le quorum est de la moitié "
        "des membres présents ou représentés.",
        "The unit is led by a director appointed jointly by the parties, assisted by a deputy "
        "director. A governance board of one representative of each party meets at least once a "
        "year and approves the budget and annual report; an advisory scientific committee meets at "
        "least every two years. The quorum is half of the members present or represented.",
    ),
}

_STAFF = {
    Instrument.UME_UMI: (
        "Les personnels affectés à l'unité conservent leur employeur, leur statut et leur "
        "rémunération. Chaque partie affecte à l'unité les personnels prévus à l'annexe 3 "
        "(dispositions relatives aux personnels) ; les chercheurs Inserm sont placés en position de "
        "mission ou de détachement selon les règles en vigueur.",
        "Staff assigned to the unit keep their employer, status and salary. Each party assigns to "
        "the unit the staff set out in Annex 3 (staffing provisions); Inserm researchers are posted "
        "on mission or secondment under the rules in force.",
    ),
}
_STAFF_DEFAULT = (
    "Les personnels participant aux travaux conservent leur employeur et leur statut. Les "
    "missions et séjours de courte durée, en particulier de jeunes chercheurs, sont organisés "
    "selon le plan de mobilité de l'annexe 1.",
    "Staff taking part in the work keep their employer and status. Missions and short stays, in "
    "particular of young researchers, follow the mobility plan of Annex 1.",
)


def agreement_articles(instrument: Instrument | str, duration_years: int | None = None) -> list[Article]:
    """The default article list of DOMAIN.md section 7, shaped for the instrument.

    Sixteen articles after the preamble; the parties, governance and staff articles depend on the
    instrument (LEA/LIA, GDRE/GDRI, UME/UMI). Annexes: 1 programme, 2 teams, 3 budget (and staffing
    provisions for a joint unit), 4 committee membership.
    """
    instrument = Instrument(instrument)
    if instrument not in _PARTIES:
        raise RuleError(f"No agreement model for {rules_for(instrument).label_en}.")
    rules = rules_for(instrument)
    years = duration_years or rules.duration_years
    name_fr, name_en = _NAMES[instrument]
    renewals = rules.max_renewals
    staff = _STAFF.get(instrument, _STAFF_DEFAULT)
    legal = (
        f"{name_fr[0].upper()}{name_fr[1:]} n'a pas de personnalité juridique."
        if instrument != Instrument.UME_UMI
        else "L'unité mixte est une structure de recherche commune sans personnalité juridique propre."
    )
    legal_en = (
        f"{name_en[0].upper()}{name_en[1:]} has no legal personality."
        if instrument != Instrument.UME_UMI
        else "The joint unit is a common research structure with no legal personality of its own."
    )
    rows = [
        (
            "Objet",
            "Purpose",
            f"La présente convention a pour objet de créer {name_fr} et d'en fixer les règles de "
            f"fonctionnement. {legal}",
            f"This agreement creates {name_en} and sets the rules by which it works. {legal_en}",
        ),
        ("Parties, équipes et coordinateurs", "Parties, teams and coordinators", *_PARTIES[instrument]),
        (
            "Programme scientifique",
            "Scientific programme",
            "Le programme scientifique commun figure à l'annexe 1. Il peut être actualisé par le "
            "comité scientifique, dans le respect de l'objet de la convention.",
            "The joint scientific programme is set out in Annex 1. The scientific committee may update "
            "it within the purpose of the agreement.",
        ),
        (
            "Durée, entrée en vigueur et renouvellement",
            "Duration, entry into force and renewal",
            f"La convention entre en vigueur à la date de la dernière signature, pour {years} ans à "
            f"compter de la date de début indiquée à l'annexe 3. Elle peut être renouvelée au plus "
            f"{renewals} fois, par avenant, après évaluation.",
            f"The agreement enters into force on the date of the last signature, for {years} years "
            f"from the start date in Annex 3. It may be renewed at most {renewals} time(s), by "
            f"amendment, after evaluation.",
        ),
        ("Gouvernance", "Governance", *_GOVERNANCE[instrument]),
        (
            "Moyens et budget prévisionnel",
            "Resources and provisional budget",
            "Les moyens apportés par chaque partie et le budget prévisionnel figurent à l'annexe 3. "
            "La subvention de l'Inserm est notifiée chaque année ; les crédits sont annuels et ne sont "
            "pas reportés. Chaque versement suivant est subordonné à l'approbation du rapport annuel.",
            "The resources each party brings and the provisional budget are set out in Annex 3. "
            "Inserm's grant is notified each year; credits are annual and are not carried over. Each "
            "next instalment depends on the approval of the annual report.",
        ),
        ("Personnels et mobilité", "Staff and mobility", *staff),
        (
            "Rapports et évaluation",
            "Reporting and evaluation",
            "Un rapport d'activité et financier est remis chaque année au plus tard le 31 janvier pour "
            "l'année écoulée ; un rapport final est remis à l'issue de la convention. La structure "
            "est évaluée avant tout renouvellement.",
            "An activity and financial report is submitted every year by 31 January for the past "
            "year; a final report is submitted at the end of the agreement. The structure is evaluated "
            "before any renewal.",
        ),
        (
            "Confidentialité",
            "Confidentiality",
            "Chaque partie garde confidentielles les informations désignées comme telles par une autre "
            "partie, pendant la durée de la convention et cinq ans après son terme.",
            "Each party keeps confidential the information another party designates as such, during "
            "the agreement and for five years after it ends.",
        ),
        (
            "Publications",
            "Publications",
            f"Les publications issues des travaux communs mentionnent {name_fr} et les parties. Une "
            "partie peut demander un délai de publication de trente jours pour protéger ses "
            "résultats.",
            f"Publications arising from the joint work mention {name_en} and the parties. A party may "
            "ask for a thirty-day delay before publication to protect its results.",
        ),
        (
            "Propriété intellectuelle",
            "Intellectual property",
            "Chaque partie reste propriétaire de ses connaissances antérieures. Les résultats obtenus "
            "en commun sont la copropriété des parties au prorata de leurs apports ; leur exploitation "
            "fait l'objet d'un accord séparé.",
            "Each party keeps ownership of its background. Results obtained jointly are co-owned by "
            "the parties in proportion to their contributions; their exploitation is the subject of a "
            "separate agreement.",
        ),
        (
            "Responsabilité et assurances",
            "Liability and insurance",
            "Chaque partie assume la responsabilité des dommages causés par ses personnels et "
            "souscrit les assurances nécessaires.",
            "Each party is liable for damage caused by its staff and takes out the necessary insurance.",
        ),
        (
            "Avenants, adhésion et retrait d'équipes",
            "Amendments, accession and withdrawal of teams",
            "Toute modification fait l'objet d'un avenant signé par toutes les parties. L'adhésion ou "
            "le retrait d'une équipe est approuvé par le comité de pilotage.",
            "Any change is made by an amendment signed by all parties. The accession or withdrawal of "
            "a team is approved by the steering committee.",
        ),
        (
            "Résiliation anticipée",
            "Early termination",
            "Chaque partie peut mettre fin à la convention par lettre recommandée avec un préavis de "
            "six mois ; les travaux en cours sont menés à leur terme.",
            "Each party may end the agreement by registered letter with six months' notice; work in "
            "progress is completed.",
        ),
        (
            "Droit applicable et différends",
            "Applicable law and disputes",
            "La convention est régie par le droit français. Les parties recherchent une solution "
            "amiable à tout différend avant de saisir les juridictions compétentes.",
            "The agreement is governed by French law. The parties seek an amicable settlement of any "
            "dispute before going to the competent courts.",
        ),
        (
            "Langues et signatures",
            "Languages and signatures",
            "La convention est établie dans la langue du présent document ; toute traduction n'est "
            "jointe qu'à titre d'information. La plateforme de l'Inserm y appose sa signature "
            "électronique ; chaque partie la signe et en retourne un exemplaire contresigné.",
            "The agreement is drawn up in the language of this document; any translation is attached "
            "for information only. Inserm's platform applies its electronic signature; each party "
            "signs it and returns a countersigned copy.",
        ),
    ]
    return [Article(i, *row) for i, row in enumerate(rows, start=1)]


def annex_titles(instrument: Instrument | str) -> list[tuple[str, str]]:
    """(French, English) titles of the annexes, numbered from 1."""
    instrument = Instrument(instrument)
    budget = (
        (
            "Budget prévisionnel et dispositions relatives aux personnels",
            "Provisional budget and staffing provisions",
        )
        if instrument == Instrument.UME_UMI
        else ("Budget prévisionnel", "Provisional budget")
    )
    return [
        ("Programme scientifique", "Scientific programme"),
        ("Équipes et coordinateurs", "Teams and coordinators"),
        budget,
        ("Composition des comités", "Committee membership"),
    ]
