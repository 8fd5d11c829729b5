"""Coupons: creation, redemption (counted with F(), capped by max_redemptions) and terms."""

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from billing_project.shared.errors import Conflict, ValidationFailed, raise_if_invalid
from subscriptions import validation
from subscriptions.models import Coupon, CouponRedemption, Subscription
from subscriptions.models.subscriptions import SubscriptionStatus
from subscriptions.pricing import CouponTerms, coupon_applies


def coupon_create(
    *,
    code: str,
    now: datetime,
    duration: str,
    percent_off: Decimal | None = None,
    amount_off: int | None = None,
    currency: str | None = None,
    duration_in_months: int | None = None,
    max_redemptions: int | None = None,
    expires_at: datetime | None = None,
    name: str = "",
) -> Coupon:
    code = (code or "").strip()
    errors: dict[str, list[str]] = {}
    if not code:
        errors["code"] = ["This field may not be blank."]
    if currency:
        try:
            currency = validation.clean_currency(currency)
        except ValueError as exc:
            errors["currency"] = [str(exc)]
    if amount_off is not None and not currency:
        currency = "usd"
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = ["Must be in the future."]
    try:
        CouponTerms(
            percent_off=percent_off,
            amount_off=amount_off,
            currency=currency or None,
            duration=duration,
            duration_in_months=duration_in_months,
        )
    except (TypeError, ValueError) as exc:
        errors.setdefault("non_field_errors", []).append(str(exc))
    raise_if_invalid(errors)
    try:
        with transaction.atomic():
            return Coupon.objects.create(
                code=code,
                name=name,
                percent_off=percent_off,
                amount_off=amount_off,
                currency=(currency or "") if amount_off is not None else "",
                duration=duration,
                duration_in_months=duration_in_months,
                max_redemptions=max_redemptions,
                expires_at=expires_at,
                created_at=now,
            )
    except IntegrityError:
        raise Conflict(f"A coupon with code {code!r} exists.", code="coupon_exists") from None


def _invalid(reason: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"coupon_code": [reason]})


def coupon_check(*, code: str, now: datetime, currency: str, lock: bool = False) -> Coupon:
    """The coupon a code names, if it can be redeemed now; else 400 with the reason."""
    coupons = Coupon.objects.select_for_update() if lock else Coupon.objects
    coupon = coupons.filter(code__iexact=(code or "").strip()).first()
    if coupon is None or not coupon.active:
        raise _invalid("unknown", f"Unknown coupon code {code!r}.")
    if coupon.expires_at is not None and coupon.expires_at <= now:
        raise _invalid("expired", f"Coupon {coupon.code} expired.")
    if coupon.amount_off is not None and coupon.currency and coupon.currency != currency:
        raise _invalid("currency_mismatch", f"Coupon {coupon.code} is in {coupon.currency}.")
    if coupon.max_redemptions is not None and coupon.times_redeemed >= coupon.max_redemptions:
        raise _invalid("exhausted", f"Coupon {coupon.code} has no redemptions left.")
    return coupon


def coupon_redeem(
    *,
    code: str,
    subscription: Subscription,
    now: datetime,
    currency: str,
    first_period_index: int | None = None,
) -> CouponRedemption:
    """Redeem inside the caller's transaction. Unknown/expired/exhausted -> 400 with the reason.
    The coupon counts from `first_period_index` (default: the subscription's current period)."""
    coupon = coupon_check(code=code, now=now, currency=currency, lock=True)
    claimed = (
        Coupon.objects.filter(pk=coupon.pk)
        .filter(Q(max_redemptions__isnull=True) | Q(times_redeemed__lt=F("max_redemptions")))
        .update(times_redeemed=F("times_redeemed") + 1)
    )
    if not claimed:
        raise _invalid("exhausted", f"Coupon {coupon.code} has no redemptions left.")
    return CouponRedemption.objects.create(
        coupon=coupon,
        subscription=subscription,
        tenant_id=subscription.tenant_id,
        first_period_index=(
            subscription.period_index if first_period_index is None else first_period_index
        ),
        redeemed_at=now,
    )


def subscription_coupon_apply(
    *, subscription: Subscription, code: str, now: datetime, actor: str = ""
) -> CouponRedemption:
    """Staff: put a coupon on a live subscription that has none (one coupon per subscription).

    A period's fee is billed in advance, so the coupon counts from the next period invoice; a
    trial's, whose fee is billed at trial end, from the current period. 409 on a cancelled
    subscription or one that already has a coupon; 400 (`coupon_code`) for an unknown, expired,
    exhausted or other-currency coupon."""
    with transaction.atomic():
        sub = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("plan")
            .get(pk=subscription.pk)
        )
        if sub.status == SubscriptionStatus.CANCELLED:
            raise Conflict("The subscription is cancelled.", code="subscription_cancelled")
        existing = CouponRedemption.objects.filter(subscription=sub).select_related("coupon")
        if (redemption := existing.first()) is not None:
            if redemption.coupon.code.lower() == (code or "").strip().lower():
                return redemption  # the outcome already holds
            raise Conflict(
                f"The subscription already has coupon {redemption.coupon.code}.",
                code="coupon_already_applied",
            )
        billed = sub.status != SubscriptionStatus.TRIALING
        return coupon_redeem(
            code=code,
            subscription=sub,
            now=now,
            currency=sub.plan.currency,
            first_period_index=sub.period_index + 1 if billed else sub.period_index,
        )


def coupon_terms(coupon: Coupon) -> CouponTerms:
    return CouponTerms(
        percent_off=coupon.percent_off,
        amount_off=coupon.amount_off,
        currency=coupon.currency or None,
        duration=coupon.duration,
        duration_in_months=coupon.duration_in_months,
    )


def coupon_for_period(*, subscription: Subscription, period_index: int) -> CouponTerms | None:
    redemption = (
        CouponRedemption.objects.select_related("coupon").filter(subscription=subscription).first()
    )
    return _terms_for_period(redemption, period_index)


def coupon_for_periods(*, requests: list[tuple]) -> list[CouponTerms | None]:
    """`coupon_for_period` for many `(subscription_id, period_index)` at once (one query)."""
    redemptions = {
        redemption.subscription_id: redemption
        for redemption in CouponRedemption.objects.select_related("coupon").filter(
            subscription_id__in={subscription_id for subscription_id, _ in requests}
        )
    }
    return [
        _terms_for_period(redemptions.get(subscription_id), period_index)
        for subscription_id, period_index in requests
    ]


def _terms_for_period(redemption: CouponRedemption | None, period_index: int) -> CouponTerms | None:
    if redemption is None:
        return None
    terms = coupon_terms(redemption.coupon)
    since = period_index - redemption.first_period_index
    return (
        terms
        if since >= 0 and coupon_applies(terms=terms, periods_since_redemption=since)
        else None
    )


COUPON_TERM_FIELDS = (
    "code",
    "percent_off",
    "amount_off",
    "currency",
    "duration",
    "duration_in_months",
)
COUPON_EDITABLE_FIELDS = ("name", "max_redemptions", "expires_at", "active")


def coupon_redeemed(*, coupon: Coupon) -> bool:
    return coupon.times_redeemed > 0 or CouponRedemption.objects.filter(coupon=coupon).exists()


def coupon_update(*, coupon: Coupon, fields: dict, now: datetime) -> Coupon:
    """Change a coupon. Its code and terms are fixed once it has been redeemed (redemptions
    price periods by them); name, cap, expiry and `active` may change."""
    unknown = sorted(set(fields) - set(COUPON_TERM_FIELDS) - set(COUPON_EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(
            f"These fields may not be changed: {', '.join(unknown)}.",
            errors={name: ["This field may not be changed."] for name in unknown},
        )
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        terms = {n for n in COUPON_TERM_FIELDS if n in fields and fields[n] != getattr(coupon, n)}
        if terms and coupon_redeemed(coupon=coupon):
            raise Conflict(
                "The coupon has been redeemed: its code and terms are fixed.",
                code="coupon_redeemed",
            )
        merged = {n: fields.get(n, getattr(coupon, n)) for n in COUPON_TERM_FIELDS}
        errors: dict[str, list[str]] = {}
        merged["code"] = (merged["code"] or "").strip()
        if not merged["code"]:
            errors["code"] = ["This field may not be blank."]
        currency = merged["currency"] or ""
        if merged["amount_off"] is None:
            currency = ""
        elif currency:
            try:
                currency = validation.clean_currency(currency)
            except ValueError as exc:
                errors["currency"] = [str(exc)]
        else:
            currency = "usd"
        merged["currency"] = currency
        if fields.get("expires_at") is not None and fields["expires_at"] <= now:
            errors["expires_at"] = ["Must be in the future."]
        cap = fields.get("max_redemptions", coupon.max_redemptions)
        if cap is not None and cap < coupon.times_redeemed:
            errors["max_redemptions"] = [f"Already redeemed {coupon.times_redeemed} times."]
        try:
            CouponTerms(
                percent_off=merged["percent_off"],
                amount_off=merged["amount_off"],
                currency=currency or None,
                duration=merged["duration"],
                duration_in_months=merged["duration_in_months"],
            )
        except (TypeError, ValueError) as exc:
            errors.setdefault("non_field_errors", []).append(str(exc))
        raise_if_invalid(errors)
        for name, value in {**fields, **merged}.items():
            setattr(coupon, name, value)
        try:
            with transaction.atomic():
                coupon.save()
        except IntegrityError:
            raise Conflict(
                f"A coupon with code {coupon.code!r} exists.", code="coupon_exists"
            ) from None
    return coupon
