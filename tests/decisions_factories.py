"""Factories of the decisions tests: ranked proposals as assessment leaves them, decided and
released calls (the assessment columns are set here, as the assessment capability would)."""

from __future__ import annotations

from decimal import Decimal

from tests.factories import make_call, make_proposal
from webapp.extensions import db
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState

CRITERIA = [
    (
        "C1",
        "Excellence scientifique et originalité du projet",
        "Scientific excellence and originality",
        25,
        4.5,
    ),
    ("C2", "Qualité et complémentarité des équipes", "Quality and complementarity of the teams", 20, 4.0),
    (
        "C3",
        "Valeur ajoutée de la collaboration, réciprocité",
        "Added value of the collaboration, reciprocity",
        20,
        4.0,
    ),
    (
        "C4",
        "Mobilité et formation des jeunes chercheurs",
        "Mobility and training of young researchers",
        10,
        3.5,
    ),
    ("C5", "Effet structurant, visibilité", "Structuring effect, visibility", 10, 4.0),
    ("C6", "Adéquation aux priorités de l'Inserm", "Fit with Inserm's priorities", 10, 5.0),
    ("C7", "Justification du budget", "Budget justification and partner contribution", 5, 3.0),
]


def summary(score: float = 4.12, grade: str = "A") -> dict:
    return {
        "weighted_score": score,
        "grade": grade,
        "criteria": [
            {"code": c, "label_fr": fr, "label_en": en, "weight": w, "score": s}
            for c, fr, en, w, s in CRITERIA
        ],
        "comments_for_applicants": [
            "Très bon projet : équipes complémentaires, mobilité bien pensée.",
            "Strong reciprocity; the budget could be detailed further.",
        ],
        "consensus_comment": "Projet d'excellence, à financer en priorité (réciprocité équilibrée).",
    }


def ranked_proposal(
    call, coordinator, state=ProposalState.PROPOSED, *, rank=1, score=4.12, annual=12_000, **fields
):
    """A proposal as assessment leaves it for the Directorate-General."""
    rank_list = {
        ProposalState.PROPOSED: "main",
        ProposalState.WAITLISTED: "waiting",
        ProposalState.NOT_RETAINED: "not_retained",
    }.get(ProposalState(state), "main")
    proposal = make_proposal(call, coordinator, state, annual_eur=annual, **fields)
    proposal.consensus_score = Decimal(str(score))
    proposal.consensus_grade = "A" if score >= 4 else "B"
    proposal.rank_position = rank
    proposal.rank_list = rank_list
    proposal.consensus_comment = "Projet d'excellence, à financer en priorité (réciprocité équilibrée)."
    proposal.assessment_summary = summary(score, proposal.consensus_grade)
    db.session.commit()
    return proposal


def ranked_call(manager, coordinators, instrument=Instrument.LEA_LIA, states=None, **call_fields):
    """A call with one proposal per coordinator: main list, waiting list, not retained (by default)."""
    call = make_call(manager, instrument, **call_fields)
    states = states or [ProposalState.PROPOSED, ProposalState.WAITLISTED, ProposalState.NOT_RETAINED]
    proposals = [
        ranked_proposal(call, user, state, rank=i + 1, score=4.5 - i * 0.8)
        for i, (user, state) in enumerate(zip(coordinators, states, strict=False))
    ]
    return call, proposals


def decide_and_release(call, dg, manager, proposals, acts):
    """Take the DG's acts ({proposal: "award"|"reject"}) then release the call (letters issued)."""
    from webapp.operations import decisions as ops

    for proposal, act in acts.items():
        ops.decide(
            proposal, act, dg, comment="Décision motivée : qualité évaluée." if act == "reject" else ""
        )
    db.session.commit()
    ops.release_call(call, manager)
    db.session.commit()
    for p in proposals:
        db.session.refresh(p)
