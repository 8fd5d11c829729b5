"""Private servers for the fault tests: each test starts its own on free ports and stops them,
never the machine's shared PostgreSQL, Redis or RabbitMQ.

- `PrivateRedis`: a `redis-server` (no persistence) that can be killed and started again on its
  port.
- `PrivateLocalstripe`: the Stripe emulator with its store in a file of its own (localstripe
  writes `/tmp/localstripe.pickle`, shared by every copy on the machine), so a kill and a restart
  on the same port keep its customers, cards and PaymentIntents.
- `PrivateSmtp`: an aiosmtpd server that keeps what it received; `stop()` refuses connections.
- `TcpProxy`: a TCP relay in front of PostgreSQL that cuts a connection when its client sends a
  chosen statement (after another one): a database connection dropped mid-request.
- `Worker`: a real `celery worker` process (Django booted from `tests.faults.worker_settings`),
  SIGKILLed by the tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def _stop(process: subprocess.Popen | None, sig=signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)

        def up():
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(up, timeout=15, interval=0.05, what="redis-server")
        return self

    def kill(self) -> None:
        _stop(self.process, signal.SIGKILL)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


class PrivateLocalstripe:
    def __init__(self, store: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = store
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateLocalstripe:
        import requests

        from billing_project.shared.testing.localstripe import TEST_SECRET_KEY

        self.process = subprocess.Popen(  # noqa: S603 - our own venv's python
            [sys.executable, str(HERE / "localstripe_private.py"), str(self.store),
             "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def up():
            assert self.process.poll() is None, "localstripe exited"
            try:
                requests.get(f"{self.url}/v1/customers", auth=(TEST_SECRET_KEY, ""), timeout=1)
            except requests.RequestException:
                return False
            return True

        wait_for(up, timeout=20, what="localstripe")
        return self

    def kill(self) -> None:
        _stop(self.process, signal.SIGKILL)
        self.process = None

    def intents(self, *, customer: str) -> list[dict]:
        from payments.tests.conftest import emulator_intents

        return emulator_intents(self.url, customer=customer)


class PrivateSmtp:
    """aiosmtpd on a fixed port; `messages` keeps every message received (across restarts)."""

    def __init__(self):
        self.port = free_port()
        self.messages: list = []
        self.controller = None

    def start(self) -> PrivateSmtp:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Message

        messages = self.messages

        class Keep(Message):
            def handle_message(self, message):
                messages.append(message)

        self.controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


class TcpProxy:
    """Relays 127.0.0.1:<port> to the target. `cut_on(statement, after=...)`: the first client
    connection that sends `statement` (having sent `after` before, if given) is cut there, both
    ways, without forwarding it: the server sees its client vanish mid-transaction."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.trigger: tuple[bytes, bytes | None] | None = None
        self.cuts = 0
        self.open: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_on(self, statement: bytes, *, after: bytes | None = None) -> None:
        with self.lock:
            self.trigger = (statement, after)

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, upstream]
            state = {"seen_after": False}
            threading.Thread(
                target=self._pipe, args=(client, upstream, state, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pipe, args=(upstream, client, state, False), daemon=True
            ).start()

    def _pipe(self, src, dst, state, from_client: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self._should_cut(data, state):
                    break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _should_cut(self, data: bytes, state: dict) -> bool:
        with self.lock:
            if self.trigger is None:
                return False
            statement, after = self.trigger
            if after is not None and after in data:
                state["seen_after"] = True
            if statement in data and (after is None or state["seen_after"]):
                self.trigger = None
                self.cuts += 1
                return True
        return False

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.close()


class Worker:
    """`celery worker --pool solo` in its own process, consuming one queue."""

    def __init__(self, *, broker_url: str, queue: str, env: dict | None = None):
        self.broker_url = broker_url
        self.queue = queue
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        self.log = None

    def start(self, log_path: Path) -> Worker:
        from django.conf import settings

        db = settings.DATABASES["default"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
            "DATABASE_URL": f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "FAULTS_BROKER_URL": self.broker_url,
            "FAULTS_QUEUE": self.queue,
            **self.env,
        }
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in kill()/stop()
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "billing_project", "worker", "--pool", "solo",
             "-Q", self.queue, "--without-heartbeat", "--without-gossip", "--without-mingle",
             "-l", "info", "-n", f"{self.queue}-{time.monotonic_ns()}@faults"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no ack, the database connection dropped by the kernel."""
        _stop(self.process, signal.SIGKILL)
        self._close_log()

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM)
        self._close_log()

    def _close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
