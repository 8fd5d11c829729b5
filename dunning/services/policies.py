"""Editing policies: the guide's RETRY_CONFIG shape maps onto a policy's steps."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from billing_project.shared.errors import ValidationFailed
from dunning import policy as pure
from dunning.models import DunningPolicy, DunningStep


def policy_steps_replace(*, policy: DunningPolicy, terms: pure.Policy, now: datetime) -> None:
    DunningStep.objects.filter(policy=policy).delete()
    DunningStep.objects.bulk_create(
        DunningStep(
            policy=policy,
            day=step.day,
            retry=step.retry,
            notice=step.notice,
            suspend=step.suspend,
            cancel=step.cancel,
            mark_uncollectible=step.mark_uncollectible,
        )
        for step in terms.steps
    )
    policy.grace_period_days = terms.grace_period_days
    if terms.max_attempts is not None:
        policy.max_attempts = terms.max_attempts
    policy.updated_at = now
    policy.save()


def policy_config_put(*, policy: DunningPolicy, config: dict, now: datetime) -> DunningPolicy:
    """Replace the policy's steps from a RETRY_CONFIG; fields left out keep their current
    values. Open cases follow the new steps from their next pass (steps already taken, by day,
    are not taken again)."""
    with transaction.atomic():
        policy = DunningPolicy.objects.select_for_update().get(pk=policy.pk)
        current = pure.config_of(
            pure.Policy(
                grace_period_days=policy.grace_period_days,
                max_attempts=policy.max_attempts,
                steps=tuple(
                    pure.Step(day=s.day, retry=s.retry, suspend=s.suspend, cancel=s.cancel)
                    for s in policy.steps.all()
                ),
            )
        )
        merged = {**current, **config}
        try:
            terms = pure.policy_from_config(merged)
        except pure.ConfigErrors as exc:
            raise ValidationFailed("Invalid dunning policy.", errors=exc.errors) from None
        policy_steps_replace(policy=policy, terms=terms, now=now)
        _reschedule_open_cases(policy=policy, now=now)
    return policy


def policy_edited(*, policy: DunningPolicy, now: datetime) -> None:
    """The admin saved the policy or its steps: stamp it and have its open cases looked at by
    the next pass, as `policy_config_put` does."""
    DunningPolicy.objects.filter(pk=policy.pk).update(updated_at=now)
    _reschedule_open_cases(policy=policy, now=now)


def _reschedule_open_cases(*, policy: DunningPolicy, now: datetime) -> None:
    """Open cases on this policy are looked at by the next pass (which sets their next time)."""
    policy.cases.filter(status="open").update(next_action_at=now)
