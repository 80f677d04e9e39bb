"""Objects of the calls capability in the security world: a draft and a published call, an
agreement and a theme (several worlds may share one database)."""

from __future__ import annotations

from tests.factories import make_call
from tests.security.world import world_builder
from webapp.models.calls import CooperationAgreement, Theme

_THEME_NUMBERS = __import__('itertools').count(1)


@world_builder
def calls_world(world, make_user, db):
    manager = world.users["manager"]
    world.objects["published_call"] = make_call(manager, title_en="World published call")
    world.objects["draft_call"] = make_call(
        manager, published=False, title_en="World draft call", title_fr=""
    )
    agreement = CooperationAgreement(title="World agreement")
    theme = Theme(label_fr="Thème du monde", label_en=f"World theme {agreement.title} {next(_THEME_NUMBERS)}")
    db.session.add_all([agreement, theme])
    db.session.flush()
    world.objects["agreement"] = agreement
    world.objects["theme"] = theme
