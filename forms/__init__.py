"""WTForms classes, one module per area. Field rules live here; business rules in workflows."""

from __future__ import annotations

from wtforms import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs: WTForms 3.3 deprecates bare tuples."""
    return [SelectChoice(value, label) for value, label in pairs]
