"""Corporate hierarchies (`POST hierarchies`): a parent, its children and their cost allocation.

Rules: a tenant has at most one parent (naming a child that already has another parent is 409
`tenant_has_parent`); no cycles (400 `hierarchy_cycle`); a tree has at most `MAX_DEPTH` levels
(the root is level 1; 400 `hierarchy_too_deep`); the children's `cost_allocation` percentages sum
to exactly 100 (400). A parent's children are replaced by the ones posted (the others are
detached). `billing_consolidation` and `payment_responsibility` go together: a consolidated
invoice is the parent's, so the parent's card pays it and the parent is dunned for it; a parent
paying invoices issued to its children is not offered (400 `hierarchy_unsupported`).
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from billing_project.shared.errors import Conflict, NotFound, ValidationFailed
from subscriptions.models import Tenant

MAX_DEPTH = 5


def tenant_ancestor_ids(*, tenant_id) -> list:
    """The tenant's ancestors, nearest first (a stored cycle, which the rules forbid, stops)."""
    ancestors: list = []
    current = Tenant.objects.filter(pk=tenant_id).values_list("parent_id", flat=True).first()
    while current is not None and current not in ancestors and current != tenant_id:
        ancestors.append(current)
        current = Tenant.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return ancestors


def tenant_subtree_levels(*, tenant_id) -> int:
    """Levels of the tree below and including `tenant_id` (a leaf is 1): one query per level."""
    levels, frontier, seen = 1, [tenant_id], {tenant_id}
    while True:
        below = [
            pk
            for pk in Tenant.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            if pk not in seen
        ]
        if not below or levels > MAX_DEPTH:
            return levels
        seen.update(below)
        frontier = below
        levels += 1


def parent_check(*, tenant_id, parent_id) -> str | None:
    """Why `tenant_id` cannot be placed under `parent_id` (None when it can): a cycle, or a
    tree deeper than `MAX_DEPTH`."""
    ancestors = tenant_ancestor_ids(tenant_id=parent_id)
    if parent_id == tenant_id or tenant_id in ancestors:
        return "hierarchy_cycle"
    if len(ancestors) + 1 + tenant_subtree_levels(tenant_id=tenant_id) > MAX_DEPTH:
        return "hierarchy_too_deep"
    return None


PARENT_PROBLEMS = {
    "hierarchy_cycle": "The hierarchy would have a cycle.",
    "hierarchy_too_deep": f"The hierarchy would be deeper than {MAX_DEPTH} levels.",
}


def _children_check(children: list[tuple]) -> None:
    errors: list[str] = []
    ids = [tenant_id for tenant_id, _ in children]
    if not children:
        errors.append("At least one child is required.")
    if len(set(ids)) != len(ids):
        errors.append("A child is listed twice.")
    if any(share <= 0 or share > 100 for _, share in children):
        errors.append("Each cost_allocation is a percent above 0 and at most 100.")
    total = sum((share for _, share in children), Decimal(0))
    if children and total != 100:
        errors.append(f"The cost_allocation percentages sum to {total}, not 100.")
    if errors:
        raise ValidationFailed(
            f"Invalid input: child_entities: {errors[0]}", errors={"child_entities": errors}
        )


def hierarchy_set(
    *,
    parent_id,
    billing_consolidation: bool,
    payment_responsibility: bool,
    children: list[tuple],
    now: datetime,
) -> Tenant:
    """Make `children` [(tenant_id, percent)] the parent's children, in one transaction."""
    _children_check(children)
    if billing_consolidation != payment_responsibility:
        raise ValidationFailed(
            "billing_consolidation and payment_responsibility must be equal: a consolidated "
            "invoice is paid by the parent, and a parent pays only consolidated invoices.",
            code="hierarchy_unsupported",
            errors={"parent_entity": ["billing_consolidation and payment_responsibility differ."]},
        )
    child_ids = [tenant_id for tenant_id, _ in children]
    with transaction.atomic():
        rows = {
            row.pk: row
            for row in Tenant.objects.select_for_update()
            .filter(pk__in=[parent_id, *child_ids])
            .order_by("pk")
        }
        parent = rows.get(parent_id)
        if parent is None:
            raise NotFound("Parent tenant not found.")
        unknown = [str(pk) for pk in child_ids if pk not in rows]
        if unknown:
            raise ValidationFailed(
                f"Invalid input: child_entities: Unknown tenant {unknown[0]}.",
                errors={"child_entities": [f"Unknown tenant {pk}." for pk in unknown]},
            )
        for child_id in child_ids:
            problem = parent_check(tenant_id=child_id, parent_id=parent.pk)
            if problem is not None:
                raise ValidationFailed(
                    PARENT_PROBLEMS[problem],
                    code=problem,
                    errors={"child_entities": [f"{child_id}: {PARENT_PROBLEMS[problem]}"]},
                )
            if rows[child_id].parent_id not in (None, parent.pk):
                raise Conflict(
                    f"Tenant {child_id} already has another parent.", code="tenant_has_parent"
                )
        Tenant.objects.filter(parent_id=parent.pk).exclude(pk__in=child_ids).update(
            parent=None, cost_allocation=None, updated_at=now
        )
        for child_id, share in children:
            Tenant.objects.filter(pk=child_id).update(
                parent=parent, cost_allocation=share, updated_at=now
            )
        parent.billing_consolidation = billing_consolidation
        parent.payment_responsibility = payment_responsibility
        parent.updated_at = now
        parent.save(update_fields=["billing_consolidation", "payment_responsibility", "updated_at"])
    return parent


def _node(tenant: Tenant, by_parent: dict) -> dict:
    return {
        "tenant_id": tenant.pk,
        "name": tenant.name,
        "cost_allocation": tenant.cost_allocation,
        "billing_consolidation": tenant.billing_consolidation,
        "payment_responsibility": tenant.payment_responsibility,
        "children": [_node(child, by_parent) for child in by_parent.get(tenant.pk, ())],
    }


def hierarchy_tree(*, tenant: Tenant) -> dict:
    """The tree below and including `tenant`, with its ancestors' ids (nearest first)."""
    by_parent: dict = {}
    frontier = [tenant.pk]
    for _ in range(MAX_DEPTH):
        rows = list(Tenant.objects.filter(parent_id__in=frontier).order_by("name", "pk"))
        if not rows:
            break
        for row in rows:
            by_parent.setdefault(row.parent_id, []).append(row)
        frontier = [row.pk for row in rows]
    return {
        "parent_id": tenant.parent_id,
        "ancestor_ids": tenant_ancestor_ids(tenant_id=tenant.pk),
        "root": _node(tenant, by_parent),
    }
