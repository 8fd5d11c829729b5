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
