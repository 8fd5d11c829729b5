from django.db import models


class IdempotencyRecord(models.Model):
    """The stored answer to a POST sent with an Idempotency-Key, per token owner."""

    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class OutboxMessage(models.Model):
    """A task to send once the transaction that wrote this row commits (`shared.dispatch`).

    The row is deleted when the task has been handed to the broker (or run, in-process); a row
    still here after `due_at` was not (broker down, crash between commit and send) and is sent
    by the outbox sweep. `due_at` is wall-clock time, also the sweep's claim (a lease)."""

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.task} {self.kwargs}"
