"""BILLING_COMPANY_*: the seller address is one unit, never completed from the demo values."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _company(**overrides) -> dict:
    code = (
        "import json, django; django.setup()\n"
        "from django.conf import settings\n"
        "print(json.dumps(settings.BILLING_COMPANY))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_COMPANY_")}
    env.update(overrides, DJANGO_SETTINGS_MODULE="billing_project.settings.test")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_an_amsterdam_seller_borrows_nothing_from_the_demo_address():
    company = _company(BILLING_COMPANY_CITY="Amsterdam", BILLING_COMPANY_COUNTRY="NL")
    assert company["city"] == "Amsterdam"
    assert company["country"] == "NL"
    assert company["state"] == company["postal_code"] == company["line1"] == ""


def test_no_address_variable_keeps_the_demo_seller():
    company = _company()
    assert (company["city"], company["state"], company["country"]) == ("San Francisco", "CA", "US")
