"""gunicorn configuration for production (README "Production"): `gunicorn -c gunicorn.conf.py`.

Every value comes from the environment, with the defaults below:
  GUNICORN_BIND (or 127.0.0.1:$PORT, PORT default 8000), WEB_CONCURRENCY (workers: 2 x cores + 1),
  GUNICORN_THREADS (1), GUNICORN_TIMEOUT (30 s), GUNICORN_GRACEFUL_TIMEOUT (30 s),
  GUNICORN_KEEPALIVE (5 s), GUNICORN_MAX_REQUESTS (1000, with 50 % jitter), GUNICORN_PRELOAD
  (true), GUNICORN_LOG_LEVEL (info), GUNICORN_ACCESS_LOG ("-": stdout; empty turns it off).
Logs (error and access) are JSON lines (billing_project.gunicorn_logging.JsonLogger).
With PROMETHEUS_MULTIPROC_DIR set (prometheus-client's multiprocess mode, so /metrics sums
every worker), the directory is emptied at start and each dead worker's files are marked dead.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

wsgi_app = "billing_project.wsgi:application"
bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 2
# Workers fork from a master that has loaded the app (wsgi.py also freezes its heap), so a
# recycled worker serves again within milliseconds. Each worker used to import Django itself
# (~1 s of CPU), and as the load spreads evenly they reached max_requests together: every worker
# booting at once stalled `ab -n 1000 -c 50` for 2.5 s (bench/README.md, issue 17). The price:
# a HUP re-reads this file and re-forks workers but keeps the loaded code; deploying code is a
# restart (the systemd unit's migrate runs then anyway).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in ("0", "false", "no")
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
# Behind a proxy on the same host; set FORWARDED_ALLOW_IPS to the proxy's address otherwise.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The workers' heartbeat files: point at a tmpfs where /tmp is a slow disk.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None

loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
logger_class = "billing_project.gunicorn_logging.JsonLogger"
proc_name = "leanvibe-billing"

PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if PROMETHEUS_MULTIPROC_DIR:
    # The preloaded app would create an unlabelled metric's file before on_starting runs.
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)


def on_starting(server):
    # Files of a previous run would be summed into this one's counters (the master's own, made
    # by the preloaded app, go too: it never counts anything, and its workers write their own).
    if PROMETHEUS_MULTIPROC_DIR:
        path = Path(PROMETHEUS_MULTIPROC_DIR)
        if path.is_dir():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)


if PROMETHEUS_MULTIPROC_DIR:

    def child_exit(server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
