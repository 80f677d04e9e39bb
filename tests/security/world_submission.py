"""Objects of the submission capability in the security world: the owner's proposals in the
states its routes act on, the co-coordinator joined on them (or only invited)."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import make_call, make_proposal
from tests.security.world import world_builder
from tests.submission_support import attach, complete_draft, mark_submitted
from webapp.models import Team, utcnow
from workflows.proposal_states import ProposalState


@world_builder
def submission_world(world, make_user, db):
    manager, owner, co = world.users["manager"], world.users["owner"], world.users["co_coordinator"]
    call = make_call(manager, title_en="World submission call")
    draft = complete_draft(call, owner, co_coordinator=co, title="World draft")
    # Submitted without documents: its routes (take back, withdraw, receipt) do not read them.
    submitted = make_proposal(
        call, owner, ProposalState.DRAFT, title="World submitted", co_coordinator_id=co.id
    )
    mark_submitted(submitted, owner)
    teams = make_proposal(call, owner, ProposalState.DRAFT, title="World teams", co_coordinator_id=co.id)
    teams.teams.append(
        Team(position=2, laboratory="Second partner", country_code="JP", institution_name="RIKEN")
    )
    invited = make_proposal(call, owner, ProposalState.DRAFT, title="World invitation")
    invited.co_coordinator_email = co.email
    now = utcnow()
    two_stage = make_call(
        manager,
        two_stage=True,
        loi_deadline_at=now - timedelta(days=1),
        opens_at=now - timedelta(days=30),
        closes_at=now + timedelta(days=30),
    )
    shortlisted = make_proposal(
        two_stage, owner, ProposalState.LOI_SHORTLISTED, stage="loi", co_coordinator_id=co.id
    )
    letter = make_proposal(two_stage, owner, ProposalState.LOI_SUBMITTED, stage="loi", co_coordinator_id=co.id)
    db.session.commit()
    letter_file = attach(letter, "cv_coordinator")
    world.objects.update(
        sub_two_stage=two_stage,
        sub_letter=letter,
        sub_letter_file=letter_file,
        sub_call=call,
        sub_draft=draft,
        sub_team=next(t for t in draft.teams if not t.is_inserm),
        sub_attachment=draft.attachments[0],
        sub_submitted=submitted,
        sub_teams=teams,
        sub_invited=invited,
        sub_shortlisted=shortlisted,
    )
