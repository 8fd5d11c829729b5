"""The dunning pass for many workers: `dunning_dispatch` does what comes before the chunks and
records one `dunning.run_chunk` task per chunk of due cases in the outbox (one transaction, sent
after its commit); any worker takes a chunk. A chunk's cases are locked FOR UPDATE SKIP LOCKED
and each step is unique per case and day, so a redelivered or duplicated chunk acts on nothing
twice."""

from datetime import datetime

from django.db import transaction

from billing_project.shared.dispatch import dispatch_after_commit
from dunning.selectors import PolicyCache, hard_decline_codes
from dunning.services.notices import notices_resend
from dunning.services.runner import CHUNK_SIZE, PassResult, dunning_chunk_run, dunning_pass_prepare


def dunning_dispatch(*, now: datetime, chunk_size: int = CHUNK_SIZE) -> int:
    result = PassResult(now=now)
    due_ids = dunning_pass_prepare(now=now, cache=PolicyCache(), result=result)
    notices_resend(now=now)
    with transaction.atomic():
        for offset in range(0, len(due_ids), chunk_size):
            dispatch_after_commit(
                "dunning.run_chunk",
                case_ids=[str(case_id) for case_id in due_ids[offset : offset + chunk_size]],
                now=now.isoformat(),
            )
    return -(-len(due_ids) // chunk_size)


def dunning_chunk_pass(*, case_ids, now: datetime) -> PassResult:
    result = PassResult(now=now)
    dunning_chunk_run(
        case_ids=list(case_ids),
        now=now,
        cache=PolicyCache(),
        hard=hard_decline_codes(),
        result=result,
    )
    return result
