"""Analytics and reports may read from a replica; billing never does."""

from django.contrib.auth.models import User
from django.db import router

from billing_project.shared.replica import read_alias, replica_reads, replica_view


def test_without_a_replica_everything_reads_from_default(settings):
    assert "replica" not in settings.DATABASES
    with replica_reads():
        assert read_alias() == "default"
        assert router.db_for_read(User) == "default"


def test_only_opted_in_reads_go_to_the_replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": dict(settings.DATABASES["default"])}
    assert router.db_for_read(User) == "default"
    with replica_reads():
        assert read_alias() == "replica"
        assert router.db_for_read(User) == "replica"
        assert router.db_for_write(User) == "default"
    assert router.db_for_read(User) == "default"
    assert replica_view(lambda: read_alias())() == "replica"
    assert not router.allow_migrate("replica", "subscriptions")
