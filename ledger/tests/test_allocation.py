from hypothesis import given
from hypothesis import strategies as st

from ledger.allocation import Posting, negate, net, split


def test_split_is_exact_and_proportional():
    assert split(5000, [20000, 2500, -1000]) == [4651, 581, -232]
    assert split(10, [1, 1, 1]) == [4, 3, 3]
    assert split(-10, [1, 1, 1]) == [-3, -3, -4]


@given(
    amount=st.integers(-(10**9), 10**9),
    weights=st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=6).filter(
        lambda w: sum(w) != 0
    ),
)
def test_split_always_sums_to_the_amount(amount, weights):
    shares = split(amount, weights)
    assert sum(shares) == amount
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - amount * weight / total) < 1 + 1e-9


def test_net_sums_per_account_and_drops_zeros():
    postings = [Posting("a", 5), Posting("b", -5), Posting("a", -5), Posting("c", 0)]
    assert net(postings) == [Posting("b", -5)]
    assert negate([Posting("a", 5, "t", "US-CA")]) == [Posting("a", -5, "t", "US-CA")]
