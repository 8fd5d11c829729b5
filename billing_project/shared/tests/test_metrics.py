"""shared.metrics: increments never raise; multiprocess mode sums every process's values."""

import os
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from billing_project.shared import metrics

INCREMENT = (
    "from billing_project.shared import metrics; "
    "metrics.inc(metrics.USAGE_EVENTS_INGESTED, 3, source='batch')"
)
RENDER = "import sys; from billing_project.shared import metrics; "
RENDER += "sys.stdout.write(metrics.render_latest().decode())"


def test_a_bad_label_never_raises():
    metrics.inc(metrics.PAYMENT_ATTEMPTS, wrong_label="x")  # logged, not raised
    metrics.observe(metrics.INVOICE_GENERATION_SECONDS, 0.1)  # labels missing: logged


def test_multiprocess_mode_sums_the_processes(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two "workers"
        subprocess.run([sys.executable, "-c", INCREMENT], env=env, check=True)
    out = subprocess.run(
        [sys.executable, "-c", RENDER], env=env, check=True, capture_output=True, text=True
    ).stdout
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out)
        for s in family.samples
    }
    assert values[("billing_usage_events_ingested_total", (("source", "batch"),))] == 6
