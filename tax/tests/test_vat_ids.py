import pytest

from tax.vat_ids import vat_id_check, vat_id_clean


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("DE 136 695 976", "", "DE136695976"),
        ("136695976", "DE", "DE136695976"),
        ("FR40303265045", "", "FR40303265045"),
        ("GB980780684", "", "GB980780684"),
        ("UK980780684", "", "GB980780684"),
        ("XI980780684", "", "XI980780684"),
        ("EL094259216", "", "EL094259216"),
        ("GR094259216", "", "EL094259216"),
        ("094259216", "GR", "EL094259216"),
        ("", "DE", ""),
    ],
)
def test_valid_ids_are_compacted(value, country, expected):
    assert vat_id_clean(value, country=country) == expected


@pytest.mark.parametrize("value", ["DE136695977", "FR00000000000", "GB12345", "ZZ123"])
def test_bad_ids_are_refused_with_the_reason(value):
    with pytest.raises(ValueError, match="Invalid VAT id"):
        vat_id_clean(value)


def test_the_online_hook_runs_only_when_given():
    seen = []
    assert vat_id_check("DE136695976", online=seen.append) == "DE136695976"
    assert seen == ["DE136695976"]
    assert vat_id_check("DE136695976") == "DE136695976"
