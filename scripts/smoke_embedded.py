"""Smoke test of `make run` as a new user meets it: scripts/run.sh with no DATABASE_URL, Redis or
Stripe, so on the embedded PostgreSQL (in a temporary folder) and a free port.

    .venv/bin/python scripts/smoke_embedded.py

The migrated cluster is cached under /tmp, keyed by a hash of the migrations and requirements, so
only the first run pays dj-stripe's migrations; run.sh's own migrate is then a no-op. The run:
run.sh starts the server, migrates, seeds and serves; the login block comes last and no mail
prints a PDF; over HTTP: the admin login page, plans, tenant, subscription, usage (single,
idempotent repeat, batch), current usage, invoices, a custom invoice, its finalisation and PDF;
manage.py commands from "another shell" find the embedded server; a billing cycle. SIGTERM (what
make sends) stops everything; a second run reuses the data and Ctrl-C (SIGINT to the process
group) stops it. Prints one line per step; exits non-zero at the first mismatch. `make test`
runs it after pytest.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from billing_project import localdb  # noqa: E402

API = "/api/v1/billing/"
PY = str(ROOT / ".venv" / "bin" / "python")


def migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")) + sorted(
        ROOT.glob("billing_project/*/migrations/*.py")
    ):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update((ROOT / "requirements.txt").read_bytes())
    digest.update((ROOT / "usage" / "services.py").read_bytes())  # SQL it may install
    return digest.hexdigest()[:16]


def step(name: str, ok: bool, detail="") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}{f': {detail}' if detail else ''}", flush=True)
    if not ok:
        raise SystemExit(1)


def base_env(pgdir: Path, work: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "LOG_LEVEL")
        and not k.startswith("STRIPE_")
    }
    env.update(
        EMBEDDED_PG_DIR=str(pgdir),
        DJANGO_SETTINGS_MODULE="billing_project.settings.local",
        MEDIA_ROOT=str(work / "media"),
    )
    return env


def migrated_cluster(pgdir: Path, work: Path) -> str:
    """Copy the cached migrated cluster to `pgdir`, building the cache first if needed."""
    cache = Path(tempfile.gettempdir()) / f"lvb_embedded_pg_{os.getuid()}_{migrations_hash()}"
    if cache.is_dir():
        subprocess.run(["cp", "-a", str(cache), str(pgdir)], check=True)
        return f"cached {cache}"
    server = localdb.start(pgdir)
    try:
        env = {**base_env(pgdir, work), "DATABASE_URL": server.url}
        subprocess.run([PY, "manage.py", "migrate", "-v0", "--no-input"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
    finally:
        localdb.stop(pgdir)
    for stale in cache.parent.glob(f"lvb_embedded_pg_{os.getuid()}_*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    subprocess.run(["cp", "-a", str(pgdir), str(partial)], check=True)
    partial.rename(cache)
    return f"built {cache}"


class MakeRun:
    """scripts/run.sh in its own process group, its output collected line by line."""

    def __init__(self, env: dict, port: int):
        self.port = port
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_logins(self, timeout: float = 240) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            text = self.output()
            block = re.search(r"LeanVibe Billing demo\n(.*?)\n={20,}", text, re.S)
            if block:
                found = dict(
                    re.findall(r"^  ([a-z_ ]+?(?: \(demo tenant\))?):\s+(\S+)", block[1], re.M)
                )
                return {"block_end": text.index(block[0]) + len(block[0]), **found}
            time.sleep(0.3)
        self.dump()
        step("make run serves", False, f"exit {self.proc.poll()}")
        return {}

    def dump(self) -> None:
        print("--- run.sh output (last 60 lines) ---\n" + "\n".join(self.lines[-60:]), flush=True)

    def stop(self, sig: int, group: bool) -> int:
        if self.proc.poll() is None:
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()


def http(base: str, method: str, path: str, token: str | None = None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def check_stopped(run: MakeRun, pgdir: Path, rc: int, how: str) -> None:
    alive = localdb.running_port(pgdir / "data")
    listening = not localdb.port_is_free(run.port)
    step(
        f"{how} stops make run, the server and PostgreSQL",
        alive is None and not listening and "embedded PostgreSQL stopped" in run.output(),
        f"exit {rc}",
    )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="lvb-smoke-"))
    work.chmod(0o711)  # as root, PostgreSQL runs as another user that must reach pg/
    pgdir = work / "pg"
    run = None
    try:
        step("migrated embedded cluster", True, migrated_cluster(pgdir, work))
        env = base_env(pgdir, work)
        run = MakeRun(env, localdb.free_port())
        logins = run.wait_for_logins()
        text = run.output()
        step("make run: database line", "Database: embedded PostgreSQL on 127.0.0.1:" in text)
        longest = max(len(line) for line in run.lines)
        step(
            "make run: mail printed without its PDF, the login block last",
            "not shown]" in text and longest < 300 and text[logins["block_end"] :].strip() == "",
            f"longest line {longest}",
        )
        base = f"http://127.0.0.1:{run.port}"
        status, _, page = http(base, "GET", "/admin/login/")
        step("GET /admin/login/", status == 200 and b"LeanVibe Billing" in page, str(status))
        exercise(base + API, logins["staff token"], env)
        rc = run.stop(signal.SIGTERM, group=False)
        check_stopped(run, pgdir, rc, "SIGTERM to run.sh (as make forwards it)")

        run = MakeRun(env, localdb.free_port())
        again = run.wait_for_logins()
        step(
            "second make run reuses the data",
            again["demo tenant"] == logins["demo tenant"],
            again["demo tenant"],
        )
        base = f"http://127.0.0.1:{run.port}"
        status, _, _ = http(base, "GET", API + "plans", again["staff token"])
        step("GET plans on the second run", status == 200, str(status))
        rc = run.stop(signal.SIGINT, group=True)
        check_stopped(run, pgdir, rc, "Ctrl-C (SIGINT to the process group)")
        run = None
        print("embedded smoke test passed", flush=True)
    except SystemExit:
        if run is not None:
            run.dump()
        raise
    finally:
        if run is not None:
            run.stop(signal.SIGTERM, group=True)
        localdb.stop(pgdir)
        shutil.rmtree(work, ignore_errors=True)


def exercise(api: str, staff: str, env: dict) -> None:
    def command(*args) -> str:
        done = subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env={**env, "EMAIL_URL": "dummymail://"},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            step(f"manage.py {args[0]}", False, done.stderr[-2000:])
        return done.stdout.strip()

    # Another shell, no DATABASE_URL: settings find the embedded server through its url file.
    staff_token = command("create_api_token", "--staff", "smoke-staff")
    seed_tenant = command("create_tenant", "--name", "Seed Co", "--email", "seed@example.com")
    step("create_api_token / create_tenant", bool(staff_token and seed_tenant), seed_tenant)

    class Response:
        def __init__(self, status, headers, content):
            self.status_code, self.headers, self.content = status, headers, content

        def __getitem__(self, name):
            return self.headers[name]

        def json(self):
            return json.loads(self.content)

    def call(method, path, token, body=None, expect=200):
        response = Response(*http(api, method.upper(), path, token, body))
        if response.status_code != expect:
            step(f"{method.upper()} {path}", False, f"{response.status_code} {response.content!r}")
        return response

    step("printed staff token works", call("get", "plans", staff).status_code == 200)
    plans = call("get", "plans", staff_token).json()
    plans = plans["results"] if isinstance(plans, dict) else plans
    developer = next((p for p in plans if p.get("slug") == "developer"), None)
    step("GET plans", developer is not None, f"{len(plans)} plans")

    tenant = call(
        "post",
        "tenants",
        staff_token,
        {"name": "Smoke Co", "email": "smoke@example.com", "country": "US", "state": "CA"},
        expect=201,
    ).json()
    step("POST tenants", bool(tenant.get("id")), tenant["id"])
    tenant_id = tenant["id"]

    subscription = call(
        "post",
        "subscriptions",
        staff_token,
        {"tenant_id": tenant_id, "plan_id": developer["id"]},
        expect=201,
    ).json()
    step("POST subscriptions", subscription.get("status") in ("active", "trialing"), "developer")

    def usage(body, expect):
        return call("post", "usage", staff_token, {"tenant_id": tenant_id, **body}, expect=expect)

    first = usage({"metric_type": "api_calls", "quantity": 15000, "idempotency_key": "s1"}, 201)
    usage({"metric_type": "storage_gb", "quantity": 12, "idempotency_key": "s2"}, 201)
    step("POST usage x2", first.json()["duplicate"] is False)
    again = usage({"metric_type": "api_calls", "quantity": 99, "idempotency_key": "s1"}, 200)
    data = again.json()
    step(
        "POST usage, same key",
        data["duplicate"] is True
        and data["id"] == first.json()["id"]
        and data["quantity"] == 15000,
        "200 duplicate",
    )

    batch = call(
        "post",
        "usage/batch",
        staff_token,
        {
            "tenant_id": tenant_id,
            "records": [
                {"metric_type": "api_calls", "quantity": 1000, "idempotency_key": "b1"},
                {"metric_type": "storage_gb", "quantity": "14.5", "idempotency_key": "b2"},
                {"metric_type": "api_calls", "quantity": 7, "idempotency_key": "s1"},
            ],
        },
        expect=201,
    ).json()
    step(
        "POST usage/batch",
        batch == {"received": 3, "accepted": 2, "duplicates": 1},
        json.dumps(batch),
    )

    current = call("get", f"usage/current?tenant_id={tenant_id}", staff_token).json()
    metrics = current["usage_metrics"]
    # developer: 10,000 api_calls at 1 cent over; 10 storage_gb (max) at 500 cents over.
    expected = {
        "api_calls": {"current": 16000, "limit": 10000, "overages": 6000, "unit_price_cents": 1},
        "storage_gb": {"current": 14.5, "limit": 10, "overages": 4.5, "unit_price_cents": 500},
    }
    got = {k: metrics.get(k) for k in expected}
    step("GET usage/current", got == expected, json.dumps(got))
    step(
        "projected_overage_cost",
        current["projected_overage_cost"] == 6000 + 2250,
        str(current["projected_overage_cost"]),
    )

    invoices = call("get", f"invoices?tenant_id={tenant_id}", staff_token).json()
    invoices = invoices["results"] if isinstance(invoices, dict) else invoices
    first_invoice = [
        i
        for i in invoices
        if i.get("kind") == "subscription" and i.get("subscription_id") == subscription["id"]
    ]
    step("GET invoices", len(first_invoice) == 1, f"{len(invoices)} invoice(s)")

    custom = call(
        "post",
        "invoices",
        staff_token,
        {
            "tenant_id": tenant_id,
            "billing_period": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-31T23:59:59Z"},
            "line_items": [
                {"description": "Setup", "quantity": 2, "unit_price": 2500, "total": 5000}
            ],
            "due_date": "2099-02-15T00:00:00Z",
        },
        expect=201,
    ).json()
    step("POST invoices (custom)", custom.get("status") == "draft", custom["id"])
    final = call("post", f"invoices/{custom['id']}/finalize", staff_token).json()
    step("POST invoices/{id}/finalize", final.get("status") == "open", final.get("number", ""))
    pdf = call("get", f"invoices/{custom['id']}/pdf", staff_token)
    step(
        "GET invoices/{id}/pdf",
        pdf["Content-Type"].startswith("application/pdf") and pdf.content[:5] == b"%PDF-",
        f"{len(pdf.content)} bytes",
    )
    period_end = subscription["current_period_end"]
    summary = command("run_billing_cycle", "--now", period_end)
    renewed = call("get", f"invoices?tenant_id={tenant_id}", staff_token).json()["results"]
    step(
        "run_billing_cycle at the period end",
        "0 failures" in summary and any(i["period_start"] == period_end for i in renewed),
        summary.strip(),
    )


if __name__ == "__main__":
    main()
