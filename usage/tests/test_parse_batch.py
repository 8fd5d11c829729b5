"""`parse_batch` checks the common record inline and hands any other to `parse_record`: both
paths give the same result, or the same errors, for any record (hypothesis)."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from usage.catalog import MetricInfo
from usage.validation import IngestContext, RecordError, parse_batch, parse_record

NOW = datetime(2026, 5, 10, 12, 30, tzinfo=UTC)
CTX = IngestContext(
    now=NOW,
    lower_bound=NOW - timedelta(days=3),
    timezone="Europe/Amsterdam",
    period_start=NOW - timedelta(days=3),
)
CATALOG = {
    "api_calls": MetricInfo("00000000-0000-0000-0000-000000000001", "api_calls", "sum"),
    "seats": MetricInfo("00000000-0000-0000-0000-000000000002", "seats", "unique_count"),
}
# One good record of each metric first: the inline path only knows metrics already looked up.
PRIMERS = [
    {"metric_type": "api_calls", "quantity": 1},
    {"metric_type": "seats", "quantity": 1, "unique_key": "u"},
]

_instants = st.datetimes(
    min_value=datetime(2026, 5, 6), max_value=datetime(2026, 5, 10, 12, 40)
).map(lambda d: d.replace(tzinfo=UTC))
_zones = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)), None])
timestamps = st.one_of(
    st.builds(
        lambda d, z: (d.astimezone(z) if z else d.replace(tzinfo=None)).isoformat(),
        _instants,
        _zones,
    ),
    st.builds(lambda d: d.isoformat().replace("+00:00", "Z"), _instants),
    st.just("2026-05-10T12:36:00Z"),  # more than 5 minutes ahead
    st.just("2026-05-01T00:00:00Z"),  # before the lower bound
    st.sampled_from(["2026-05-10", "yesterday", "2026-13-01T00:00:00Z", "", "x" * 41]),
    st.none(),
    st.integers(),
)
quantities = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1e13),
    st.integers(min_value=-10, max_value=10**13),
    st.sampled_from([0.1, 12.34, 1e-05, 0.000001, 1e12, 1e12 + 0.5, -0.0, 0.1234567, 1e15]),
    st.sampled_from(["0.5", " 2 ", "1e3", "-1", "abc", True, None, [1]]),
)
keys = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.sampled_from(["", "a\x00b", "k" * 255, "k" * 256, 7, ["k"]]),
)
records = st.one_of(
    st.fixed_dictionaries(
        {
            "metric_type": st.sampled_from(["api_calls", "seats", "unknown", "", 3, None]),
            "quantity": quantities,
        },
        optional={
            "timestamp": timestamps,
            "idempotency_key": keys,
            "unique_key": keys,
            "date": st.sampled_from([None, "2026-05-09", "2026-05-11", "bad"]),
        },
    ),
    st.sampled_from([[], "record", None, 5]),
)


def _one(record):
    try:
        return parse_record(record, catalog=CATALOG, ctx=CTX, allow_date=True)
    except RecordError as exc:
        return exc.messages


@settings(max_examples=600, deadline=None)
@given(st.lists(records, min_size=1, max_size=6))
def test_inline_path_decides_as_parse_record(batch):
    expected = [_one(record) for record in batch]
    try:
        got = parse_batch(PRIMERS + batch, catalog=CATALOG, ctx=CTX)[len(PRIMERS) :]
    except RecordError as exc:
        bad = exc.messages["records"]
        got = [bad.get(str(i + len(PRIMERS)), expected[i]) for i in range(len(batch))]
        # every record parse_record refuses is listed, with its messages
        assert {i for i, e in enumerate(expected) if isinstance(e, dict)} == {
            int(i) - len(PRIMERS) for i in bad
        }
    assert got == expected
    for parsed, one in zip(got, expected, strict=True):
        if not isinstance(one, dict):  # the same decimal literal and instant, exactly
            assert str(parsed.quantity) == str(one.quantity)
            assert str(parsed.timestamp) == str(one.timestamp)
