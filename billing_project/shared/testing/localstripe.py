"""pytest fixtures for the local Stripe emulator (localstripe), reached over real HTTP.

`localstripe_url` (session): starts `localstripe --port <free port> --from-scratch` once per test
process, waits until it answers and stops it at the end. `stripe_enabled` (function): points
STRIPE_SECRET_KEY / STRIPE_API_BASE at it for one test. Registered by the root conftest.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from billing_project.shared import stripe_gateway

TEST_SECRET_KEY = "sk_test_" + "leanvibeLocalstripe0123456789"
STARTUP_TIMEOUT_SECONDS = 15.0


def _localstripe_command() -> str:
    beside_python = Path(sys.executable).with_name("localstripe")
    return str(beside_python) if beside_python.exists() else "localstripe"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        requests.get(f"{url}/v1/customers", auth=(TEST_SECRET_KEY, ""), timeout=1)
    except requests.RequestException:
        return False
    return True


@pytest.fixture(scope="session")
def localstripe_url():
    """Base URL of a private localstripe process (started on first use, stopped at the end)."""
    for _attempt in range(3):
        port = _free_port()
        process = subprocess.Popen(  # noqa: S603 - our own venv's localstripe
            [_localstripe_command(), "--port", str(port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(url):
                break
            time.sleep(0.1)
        if process.poll() is None and _answers(url):
            break
        process.kill()
        process.wait(timeout=5)
    else:
        pytest.fail("localstripe did not start")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


_STRIPE_SETTINGS = ("STRIPE_SECRET_KEY", "STRIPE_TEST_SECRET_KEY", "STRIPE_API_BASE")


def _configure(settings, *, api_base: str):
    """Set the Stripe settings for one test; the returned callable puts them (and stripe) back."""
    original = {name: getattr(settings, name) for name in _STRIPE_SETTINGS}
    settings.STRIPE_SECRET_KEY = TEST_SECRET_KEY
    settings.STRIPE_TEST_SECRET_KEY = TEST_SECRET_KEY
    settings.STRIPE_API_BASE = api_base
    stripe_gateway.reset_client()

    def restore():
        for name, value in original.items():
            setattr(settings, name, value)
        stripe_gateway.reset_client()

    return restore


@pytest.fixture
def stripe_enabled(settings, localstripe_url):
    """Stripe configured for this test, against the emulator. Yields the base URL."""
    restore = _configure(settings, api_base=localstripe_url)
    yield localstripe_url
    restore()


@pytest.fixture
def stripe_down(settings):
    """Stripe configured, but nothing listens at its address (connection refused)."""
    restore = _configure(settings, api_base="http://127.0.0.1:9")
    yield
    restore()
