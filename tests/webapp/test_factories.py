from tests.factories import make_call, make_proposal


def test_factories(app, make_user, db):
    m = make_user(roles=("manager",))
    a = make_user()
    for inst in ("lea_lia", "gdre_gdri"):
        call = make_call(m, inst)
        assert call.is_published
        p = make_proposal(call, a)
        assert p.id and len(p.teams) >= 2 and p.budget_lines
