"""Pure business rules of the cooperation-calls platform: no Flask, no request, no database.

The web layer imports from the submodules or from here. The three state machines share one API
shape (``next_state`` / ``available_actions`` / ``can_move``); here they are re-exported under
explicit names (``next_proposal_state``, ``next_structure_state``, ``next_grant_state``...).
"""

from __future__ import annotations

from workflows import money, proposal_states, structure_states, teams, timeutils, transitions
from workflows.errors import (
    NaiveDatetimeError,
    NonexistentLocalTime,
    RuleError,
    TransitionRefused,
)
from workflows.instruments import CALL_INSTRUMENTS, RULES, Instrument, InstrumentRules, rules_for
from workflows.money import (
    BudgetCategory,
    BudgetLine,
    BudgetRules,
    BudgetTotals,
    check_budget,
    totals,
)
from workflows.proposal_states import (
    APPLICANT_VISIBLE_STATUS,
    TERMINAL_STATES,
    WITHDRAWABLE_STATES,
    ApplicantStatus,
    ProposalAction,
    ProposalFacts,
    ProposalState,
    applicant_status,
)
from workflows.proposal_states import MOVES as PROPOSAL_MOVES
from workflows.proposal_states import available_actions as available_proposal_actions
from workflows.proposal_states import can_move as can_move_proposal
from workflows.proposal_states import next_state as next_proposal_state
from workflows.roles import ACCOUNT_ROLES, Role
from workflows.structure_states import (
    GRANT_MOVES,
    GrantAction,
    GrantFacts,
    GrantState,
    StructureAction,
    StructureFacts,
    StructureState,
    available_grant_actions,
    can_move_grant,
    first_grant_year,
    next_grant_state,
    report_due_date,
)
from workflows.structure_states import MOVES as STRUCTURE_MOVES
from workflows.structure_states import TERMINAL_STATES as STRUCTURE_TERMINAL_STATES
from workflows.structure_states import available_actions as available_structure_actions
from workflows.structure_states import can_move as can_move_structure
from workflows.structure_states import next_state as next_structure_state
from workflows.teams import TeamFacts, check_countries, check_team_shape
from workflows.timeutils import (
    PARIS,
    call_is_open,
    deadline_passed,
    ensure_aware,
    paris_to_utc,
    to_paris,
    utcnow,
)
from workflows.transitions import Move

__all__ = [
    "ACCOUNT_ROLES",
    "APPLICANT_VISIBLE_STATUS",
    "CALL_INSTRUMENTS",
    "GRANT_MOVES",
    "PARIS",
    "PROPOSAL_MOVES",
    "RULES",
    "STRUCTURE_MOVES",
    "STRUCTURE_TERMINAL_STATES",
    "TERMINAL_STATES",
    "WITHDRAWABLE_STATES",
    "ApplicantStatus",
    "BudgetCategory",
    "BudgetLine",
    "BudgetRules",
    "BudgetTotals",
    "GrantAction",
    "GrantFacts",
    "GrantState",
    "Instrument",
    "InstrumentRules",
    "Move",
    "NaiveDatetimeError",
    "NonexistentLocalTime",
    "ProposalAction",
    "ProposalFacts",
    "ProposalState",
    "Role",
    "RuleError",
    "StructureAction",
    "StructureFacts",
    "StructureState",
    "TeamFacts",
    "TransitionRefused",
    "applicant_status",
    "available_grant_actions",
    "available_proposal_actions",
    "available_structure_actions",
    "call_is_open",
    "can_move_grant",
    "can_move_proposal",
    "can_move_structure",
    "check_budget",
    "check_countries",
    "check_team_shape",
    "deadline_passed",
    "ensure_aware",
    "first_grant_year",
    "money",
    "next_grant_state",
    "next_proposal_state",
    "next_structure_state",
    "paris_to_utc",
    "proposal_states",
    "report_due_date",
    "rules_for",
    "structure_states",
    "teams",
    "timeutils",
    "to_paris",
    "totals",
    "transitions",
    "utcnow",
]
