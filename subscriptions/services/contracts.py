"""Contract writes: create and change (a new version each time), never two contracts of one
tenant in force at once. Terms are parsed by the pure `pricing.contracts_terms_parse`."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction

from billing_project.shared.errors import Conflict, ValidationFailed, raise_if_invalid
from subscriptions.models import Contract, ContractVersion, Metric, Tenant
from subscriptions.pricing import (
    ContractTerms,
    ContractTermsInvalid,
    contract_anniversary,
    contract_term_end,
    contract_terms_parse,
)

FOREVER = datetime.max.replace(tzinfo=ZoneInfo("UTC"))


def _terms(raw, *, version: int) -> ContractTerms:
    errors: dict[str, list[str]] = {}
    terms = None
    try:
        terms = contract_terms_parse(raw, version=version)
    except ContractTermsInvalid as exc:
        errors.update(exc.errors)
    if terms is not None:
        metrics = [metric for metric, _ in terms.overage_rates]
        known = set(
            Metric.objects.filter(metric_type__in=metrics).values_list("metric_type", flat=True)
        )
        for metric in metrics:
            if metric not in known:
                errors[f"contract_terms.custom_pricing.overage_rates.{metric}"] = [
                    "Unknown metric."
                ]
    raise_if_invalid(errors)
    return terms


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


def _local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def _reach(*, starts_at: datetime, ends_at: datetime, auto_renewal: bool) -> tuple:
    return starts_at, FOREVER if auto_renewal else ends_at


def _overlap_refuse(*, tenant_id, starts_at, ends_at, auto_renewal, exclude=None) -> None:
    """Two contracts of one tenant may not be in force at once (a renewing one reaches on)."""
    start, end = _reach(starts_at=starts_at, ends_at=ends_at, auto_renewal=auto_renewal)
    others = Contract.objects.filter(tenant_id=tenant_id).exclude(pk=exclude)
    for other in others:
        version = other.versions.get(version=other.version)
        other_start, other_end = _reach(
            starts_at=other.starts_at,
            ends_at=other.ends_at,
            auto_renewal=bool(version.terms.get("auto_renewal")),
        )
        if start < other_end and other_start < end:
            raise Conflict(
                f"The tenant already has a contract in force then ({other.pk}, from "
                f"{other.start_date.isoformat()}"
                + (
                    " renewing automatically)."
                    if other_end == FOREVER
                    else f" to {other.end_date.isoformat()})."
                ),
                code="contract_overlap",
            )


def contract_create(
    *,
    tenant: Tenant,
    contract_terms,
    now: datetime,
    start_date: date | None = None,
    end_date: date | None = None,
    actor: str = "",
) -> Contract:
    """A contract from `start_date` (local midnight; default: now) to `end_date` (exclusive;
    default: a year after the start). 409 `contract_overlap` when another is in force then."""
    terms = _terms(contract_terms, version=1)
    tz = tenant.timezone
    starts_at = _local_midnight(start_date, tz) if start_date else now
    if end_date is not None:
        ends_at = _local_midnight(end_date, tz)
    else:
        ends_at = contract_anniversary(starts_at=starts_at, tz=tz, years=1)
    if ends_at <= starts_at:
        raise ValidationFailed(
            "end_date must be after start_date.", errors={"end_date": ["Must be after the start."]}
        )
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk").get()
        _overlap_refuse(
            tenant_id=tenant.pk, starts_at=starts_at, ends_at=ends_at,
            auto_renewal=terms.auto_renewal,
        )  # fmt: skip
        contract = Contract.objects.create(
            tenant=tenant,
            starts_at=starts_at,
            ends_at=ends_at,
            start_date=_local_date(starts_at, tz),
            end_date=_local_date(ends_at, tz),
            version=1,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        ContractVersion.objects.create(
            contract=contract,
            version=1,
            terms=terms.as_json(),
            end_date=contract.end_date,
            ends_at=ends_at,
            created_by=actor,
            created_at=now,
        )
    return contract


def _merged(current: dict, changes) -> dict:
    """`changes` over `current`, one level into `custom_pricing`: a PATCH names what changes."""
    if not isinstance(changes, dict):
        return changes
    merged = {**current, **changes}
    pricing = changes.get("custom_pricing")
    if isinstance(pricing, dict) and isinstance(current.get("custom_pricing"), dict):
        merged["custom_pricing"] = {**current["custom_pricing"], **pricing}
    return merged


def contract_update(
    *,
    contract: Contract,
    now: datetime,
    contract_terms=None,
    end_date: date | None = None,
    note: str = "",
    actor: str = "",
) -> Contract:
    """A new version of the terms (the fields given replace the current ones) and/or a new end
    date. Invoices already issued keep the version they used; the next ones use this one."""
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=contract.tenant_id).values_list("pk").get()
        contract = Contract.objects.select_for_update().select_related("tenant").get(pk=contract.pk)
        current = contract.versions.get(version=contract.version)
        number = contract.version + 1
        raw = current.terms if contract_terms is None else _merged(current.terms, contract_terms)
        terms = _terms(raw, version=number)
        tz = contract.tenant.timezone
        ends_at = contract.ends_at if end_date is None else _local_midnight(end_date, tz)
        if end_date is None and current.terms.get("auto_renewal") and not terms.auto_renewal:
            # Renewal turned off: the contract ends with the term now running (renewals so
            # far are kept), not at the end of its first term.
            ends_at = contract_term_end(
                starts_at=contract.starts_at, ends_at=contract.ends_at, auto_renewal=True,
                tz=tz, at=max(now, contract.starts_at),
            )  # fmt: skip
        if ends_at <= contract.starts_at:
            raise ValidationFailed(
                "end_date must be after start_date.",
                errors={"end_date": ["Must be after the start."]},
            )
        if end_date is not None and ends_at < now and ends_at != contract.ends_at:
            raise ValidationFailed(
                "end_date cannot be in the past.", errors={"end_date": ["Must not be past."]}
            )
        _overlap_refuse(
            tenant_id=contract.tenant_id, starts_at=contract.starts_at, ends_at=ends_at,
            auto_renewal=terms.auto_renewal, exclude=contract.pk,
        )  # fmt: skip
        contract.version = number
        contract.ends_at = ends_at
        contract.end_date = _local_date(ends_at, tz)
        contract.updated_at = now
        contract.save(update_fields=["version", "ends_at", "end_date", "updated_at"])
        ContractVersion.objects.create(
            contract=contract,
            version=number,
            terms=terms.as_json(),
            end_date=contract.end_date,
            ends_at=ends_at,
            note=note[:500],
            created_by=actor,
            created_at=now,
        )
    return contract
