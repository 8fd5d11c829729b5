"""The OpenAPI schema of usage input against the parser that accepts it (`usage.validation`),
field by field: what the schema allows at its limits is accepted, what it refuses is refused."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from subscriptions.models import Metric
from usage import validation
from usage.catalog import MetricInfo
from usage.validation import IngestContext, RecordError, parse_batch, parse_quantity, parse_record

NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)
CATALOG = {"api_calls": MetricInfo("00000000-0000-0000-0000-000000000001", "api_calls", "sum")}
CTX = IngestContext(now=NOW, lower_bound=None)


@pytest.fixture(scope="module")
def components():
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


def _accepts(record, *, batch=False) -> bool:
    try:
        parse_record(record, catalog=CATALOG, ctx=CTX, allow_date=batch)
    except RecordError:
        return False
    return True


@pytest.mark.parametrize(
    ("component", "fields", "batch"),
    [
        ("UsageEventInputRequest", (*validation.RECORD_FIELDS, "tenant_id"), False),
        ("UsageBatchRecordRequest", validation.BATCH_RECORD_FIELDS, True),
    ],
)
def test_schema_fields_are_the_parsers_fields(components, component, fields, batch):
    schema = components[component]
    assert set(schema["properties"]) == set(fields)
    assert set(schema["required"]) == {"metric_type", "quantity"}
    base = {"metric_type": "api_calls", "quantity": 1}
    assert _accepts(base, batch=batch)
    for required in schema["required"]:
        assert not _accepts({k: v for k, v in base.items() if k != required}, batch=batch)
    for name, field in schema["properties"].items():
        if name == "tenant_id":
            continue  # read by the view (tests in test_record.py)
        if field.get("nullable"):
            assert _accepts({**base, name: None}, batch=batch), name
        if field.get("type") == "string" and "maxLength" in field:
            longest = "k" * field["maxLength"]
            if name == "metric_type":
                assert not _accepts({**base, name: longest + "k"}, batch=batch)
                assert field["maxLength"] == Metric._meta.get_field("metric_type").max_length
                continue
            assert field["minLength"] == 1
            assert _accepts({**base, name: longest}, batch=batch), name
            assert not _accepts({**base, name: longest + "k"}, batch=batch), name
            assert not _accepts({**base, name: ""}, batch=batch), name
            assert not _accepts({**base, name: 7}, batch=batch), name


def test_quantity_schema_is_the_parsers_rule(components):
    number, text = components["UsageEventInputRequest"]["properties"]["quantity"]["oneOf"]
    low, high, step = (Decimal(str(number[k])) for k in ("minimum", "maximum", "multipleOf"))
    assert (low, high, step) == (0, validation.MAX_QUANTITY, validation.QUANTUM)
    for value in (low, high, step, high - step, Decimal("0.1")):
        assert parse_quantity(value) == value
        assert parse_quantity(str(value)) == value
    for value in (low - step, high + step, step / 10):
        with pytest.raises(ValueError):
            parse_quantity(value)
    import re

    pattern = re.compile(text["pattern"])
    for good in ("1", " 2.5", "1e3", ".5", "+3.", "7\n"):
        assert pattern.search(good) and parse_quantity(good) >= 0, good
    for bad in ("", "1,5", "0x10", "one", "١", "1 2", "NaN", "inf"):
        assert not pattern.search(bad), bad
        with pytest.raises(ValueError):
            parse_quantity(bad)


def test_batch_size_schema_is_the_parsers_rule(components):
    records = components["UsageBatchInputRequest"]["properties"]["records"]
    assert (records["minItems"], records["maxItems"]) == (1, validation.MAX_BATCH)
    assert components["UsageBatchInputRequest"]["required"] == ["records"]
    one = {"metric_type": "api_calls", "quantity": 1}
    assert len(parse_batch([one] * validation.MAX_BATCH, catalog=CATALOG, ctx=CTX)) == 10_000
    for bad in ([], [one] * (validation.MAX_BATCH + 1)):
        with pytest.raises(RecordError):
            parse_batch(bad, catalog=CATALOG, ctx=CTX)
