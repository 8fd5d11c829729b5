"""The CSV export of an admin list (django-import-export): one resource per ModelAdmin, made from
its model's fields.

Money reads as money in a spreadsheet: each minor-unit amount the admin knows as money
(`money_fields`, `unit_price_fields`, `export_money`) is two columns, `total` in major units
(`250.00`, `25000` for JPY; a plain number, no symbol, so it sums) and `total_minor` as stored
(25000), with a `currency` column (upper-case ISO code) beside them. A foreign key is its id plus
`<name>_label` (the row as the admin shows it) when the list loads it anyway (list_display or
list_select_related), so the export makes no query per row."""

from import_export import resources
from import_export.fields import Field

from billing_project.shared.money import currency_exponent, minor_to_major


def _follow(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part, None) if obj is not None else None
    return obj


def _currency_code(obj, path: str) -> str:
    currency = _follow(obj, path)
    return str(currency).upper() if currency else ""


def _major(path: str, currency_path: str):
    def dehydrate(obj):
        minor, currency = _follow(obj, path), _follow(obj, currency_path)
        if minor is None or not currency:
            return ""
        try:
            currency_exponent(currency)
        except ValueError:
            return ""
        return str(minor_to_major(minor, currency))

    return dehydrate


def _label(name: str):
    def dehydrate(obj):
        related = getattr(obj, name, None)
        return "" if related is None else str(related)

    return dehydrate


def _loaded_relations(model_admin) -> set[str]:
    names = {n for n in model_admin.list_display if isinstance(n, str)}
    related = model_admin.list_select_related
    if isinstance(related, list | tuple):
        names |= {path.split("__")[0] for path in related}
    return names


def _build(model_admin) -> type[resources.ModelResource]:
    model = model_admin.model
    money = {**model_admin.money_fields, **model_admin.unit_price_fields}
    money.update(model_admin.export_money)
    exclude = set(model_admin.export_exclude) | set(model_admin.exclude or ())
    loaded = _loaded_relations(model_admin)
    declared, order = {}, []

    def add(name, dehydrate):
        declared[name] = Field(column_name=name, dehydrate_method=dehydrate, readonly=True)
        order.append(name)

    for field in model._meta.concrete_fields:
        name = field.name
        if name in exclude:
            continue
        if name in money:
            add(name, _major(name, money[name]))
            declared[f"{name}_minor"] = Field(attribute=name, column_name=f"{name}_minor")
            order.append(f"{name}_minor")
        else:
            order.append(name)
        if field.is_relation and name in loaded:
            add(f"{name}_label", _label(name))
    names = {f.name for f in model._meta.concrete_fields}
    for path, currency_path in model_admin.export_money.items():
        if path not in names:
            add(path, _major(path, currency_path))
    currencies = {c for n, c in money.items() if n in names or n in model_admin.export_money}
    if currencies and "currency" not in names:
        first = sorted(currencies)[0]
        add("currency", lambda obj: _currency_code(obj, first))
    elif "currency" in names and "currency" not in exclude:
        declared["currency"] = Field(
            column_name="currency",
            dehydrate_method=lambda obj: _currency_code(obj, "currency"),
            readonly=True,
        )
    meta = type("Meta", (), {"model": model, "fields": order, "export_order": order})
    return type(f"{model.__name__}Resource", (resources.ModelResource,), {**declared, "Meta": meta})


def export_resource(model_admin) -> type[resources.ModelResource]:
    """The resource of `model_admin`'s list (made once per admin)."""
    cached = model_admin.__dict__.get("_export_resource")
    if cached is None:
        cached = model_admin.__dict__["_export_resource"] = _build(model_admin)
    return cached
