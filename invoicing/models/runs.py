from django.db import models


class BillingRunFailure(models.Model):
    """One subscription the billing cycle could not process; the run went on."""

    subscription = models.ForeignKey(
        "subscriptions.Subscription", on_delete=models.CASCADE, related_name="+"
    )
    step = models.CharField(max_length=30)
    run_as_of = models.DateTimeField()
    error = models.TextField()
    at = models.DateTimeField(db_index=True)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.step} {self.subscription_id} at {self.at:%Y-%m-%d %H:%M}"


class BillingRun(models.Model):
    """One run of the billing cycle (beat, `run_billing_cycle`): when it ran (wall clock), as of
    which moment, what it made and how long each invoice took to generate (the figure behind the
    guide's "invoice generation time < 30 s"). `finished_at` is null while it runs (or if the
    process died); `error` holds why a run could not run at all."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField()
    invoices = models.PositiveIntegerField(default=0)
    periods = models.PositiveIntegerField(default=0)
    trial_ends = models.PositiveIntegerField(default=0)
    cancellations = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    generated = models.PositiveIntegerField(
        default=0, help_text="Invoices whose generation was timed (the ms figures' count)"
    )
    generation_ms_total = models.BigIntegerField(default=0)
    generation_ms_max = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"billing run {self.started_at:%Y-%m-%d %H:%M:%S} as of {self.as_of:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
