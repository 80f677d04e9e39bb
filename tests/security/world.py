"""The fixture world of the security suite: one user per role of QUALITY.md, and their objects.

Later capabilities extend `build_world` with the objects their routes need (a call, the owner's
proposal, assignments...), so every route of the permission matrix can be asked for by every role.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = (
    "anonymous",
    "owner",
    "other_applicant",
    "co_coordinator",
    "assigned_reviewer",
    "unassigned_reviewer",
    "conflicted_reviewer",
    "manager",
    "directorate",
    "admin",
)

ACCOUNT_ROLES = {
    "owner": ("applicant",),
    "other_applicant": ("applicant",),
    "co_coordinator": ("applicant",),
    "assigned_reviewer": ("reviewer",),
    "unassigned_reviewer": ("reviewer",),
    "conflicted_reviewer": ("reviewer",),
    "manager": ("manager",),
    "directorate": ("directorate",),
    "admin": ("admin",),
}


@dataclass
class World:
    users: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


WORLD_BUILDERS: list = []


def world_builder(fn):
    """Register a function (world, make_user, db) -> None that adds objects to the world."""
    WORLD_BUILDERS.append(fn)
    return fn


_builds = {"n": 0}


def _load_builders() -> None:
    """Each capability adds its objects in tests/security/world_<capability>.py (@world_builder)."""
    import importlib
    import pkgutil
    from pathlib import Path

    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("world_"):
            importlib.import_module(f"tests.security.{info.name}")


def build_world(make_user, db) -> World:
    """A fresh world; several may coexist in one database (e-mails carry the build number)."""
    _builds["n"] += 1
    n = _builds["n"]
    if not _builds.get("loaded"):
        _load_builders()
        _builds["loaded"] = True
    world = World()
    for role, account_roles in ACCOUNT_ROLES.items():
        world.users[role] = make_user(
            roles=account_roles, email=f"{role.replace('_', '.')}.{n}@world.example", first_name=role
        )
    for builder in WORLD_BUILDERS:
        builder(world, make_user, db)
    db.session.commit()
    return world
