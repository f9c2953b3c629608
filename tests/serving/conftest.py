import oidc_provider_mock
from tests.emergency.conftest import crafted_file, fresh_home, home  # noqa: F401  (the crafted resident file)
import pytest

from tests.serving.oidc import running_provider

USERS = [
    oidc_provider_mock.User(sub="dana", claims={"name": "Dana", "groups": ["toshav-emergency-managers"]}),
    oidc_provider_mock.User(sub="yossi", claims={"name": "Yossi", "groups": ["toshav-welfare"]}),
    oidc_provider_mock.User(sub="nobody", claims={"name": "No Role", "groups": ["finance"]}),
]


@pytest.fixture(scope="session")
def provider():
    """A real OpenID provider on 127.0.0.1, shared by the session."""
    with running_provider(USERS) as p:
        yield p
