import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client


@pytest.fixture
def role_user(db):
    """make(role) -> a staff user holding only that role's group."""

    def make(role: str, username: str | None = None, password: str = "pw-" + "x" * 8):
        user = get_user_model().objects.create_user(
            username or role, f"{role}@leanvibe.example", password, is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def web_for(role_user):
    """web_for(role) -> a logged-in Django test client of a fresh user with that role."""

    def make(role: str):
        client = Client()
        client.force_login(role_user(role))
        return client

    return make


@pytest.fixture
def superuser_web(db):
    user = get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    client = Client()
    client.force_login(user)
    client.user = user
    return client
