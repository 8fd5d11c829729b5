"""Fixtures of the fault tests: private servers, started per test and always stopped."""

import shutil

import pytest

from payments.tests.conftest import webhook_secret, with_card  # noqa: F401 - fixtures
from tests.faults.servers import PrivateLocalstripe, PrivateRedis, PrivateSmtp


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = PrivateRedis().start()
    yield server
    server.kill()


@pytest.fixture
def private_stripe(tmp_path):
    server = PrivateLocalstripe(tmp_path / "localstripe.pickle").start()
    yield server
    server.kill()


@pytest.fixture
def private_smtp():
    server = PrivateSmtp()
    yield server
    server.stop()
