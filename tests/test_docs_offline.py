"""The Swagger UI at /api/v1/billing/docs/ loads nothing from the internet: every asset it names
is a local path this app serves (drf-spectacular-sidecar)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|["']([^"'\s]+\.(?:js|css|png))["']""")


def test_docs_reference_only_local_assets_and_they_are_served():
    client = Client()
    page = client.get("/api/v1/billing/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"https?://|//cdn|unpkg|jsdelivr", html), html
    assets = {a or b for a, b in ASSET.findall(html)}
    assert {a for a in assets if a.endswith(".js")}, html  # the bundle is referenced
    assert {a for a in assets if a.endswith(".css")}, html
    for asset in sorted(assets):
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content)
        assert len(body) > 100, asset


def test_the_sidecar_route_serves_nothing_outside_its_folder():
    client = Client()
    assert client.get("/static/drf_spectacular_sidecar/../../__init__.py").status_code in (400, 404)
    assert client.get("/static/drf_spectacular_sidecar/nope.js").status_code == 404
