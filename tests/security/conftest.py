"""The security suite runs as users would meet the platform: CSRF on."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}
