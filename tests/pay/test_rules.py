"""The pure pay rules: the reservation always covers what is later posted, fees never take
from members, the floor rounds in the member's favour, the policy's limits hold."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datacoop.errors import ValidationFailed
from datacoop.pay import rules

bps = st.integers(0, 10_000)
amounts = st.integers(0, 10**9)


def test_the_docstring_examples_run():
    assert doctest.testmod(rules).failed == 0


@given(st.integers(1, 10_000), st.integers(0, 10**6), bps)
def test_the_reservation_covers_the_fee_on_any_sum_of_task_pay(tasks, base, fee_bps):
    # Fees are charged (rounded down) on sums of pay; a task's reservation rounds its fee up.
    assert rules.fee_of(tasks * base, fee_bps) <= tasks * (rules.task_cost(base, fee_bps) - base)


@given(st.lists(amounts, max_size=10), bps, st.integers(-(10**9), 10**10))
def test_fees_never_take_from_members(pays, fee_bps, available):
    fees = rules.allocate_fees(pays, fee_bps, available)
    assert all(0 <= f <= rules.fee_of(p, fee_bps) for f, p in zip(fees, pays, strict=True))
    assert sum(fees) <= max(0, available - sum(pays))
    if available >= sum(pays) + sum(rules.fee_of(p, fee_bps) for p in pays):
        assert fees == [rules.fee_of(p, fee_bps) for p in pays]


@given(st.integers(0, 10**6), st.integers(0, 10**9), st.integers(0, 10**9))
def test_a_top_up_lifts_pay_to_the_floor_and_no_further(floor, active_ms, paid):
    top = rules.top_up(floor, active_ms, paid)
    assert top >= 0
    assert (paid + top) * rules.MS_PER_HOUR >= floor * active_ms  # at or above the floor
    if top:
        assert (paid + top - 1) * rules.MS_PER_HOUR < floor * active_ms  # by the least amount


def _terms(**overrides):
    base = {
        "currency": "USD",
        "floor_hourly": 1500,
        "hard_minimum_hourly": 800,
        "fee_bps": 1500,
        "fee_cap_bps": 1500,
        "auto_approve_days": 7,
    }
    return rules.PolicyTerms(**{**base, **overrides})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"floor_hourly": 799}, "floor_hourly"),
        ({"fee_bps": 1501}, "fee_bps"),
        ({"fee_bps": -1}, "fee_bps"),
        ({"auto_approve_days": 0}, "auto_approve_days"),
        ({"fee_cap_bps": 10_001, "fee_bps": 0}, "fee_cap_bps"),
        ({"payout_threshold": -1}, "payout_threshold"),
    ],
)
def test_the_policy_limits_hold(overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        rules.check_policy(_terms(**overrides))
    assert [d["field"] for d in caught.value.details] == [field]


def test_the_defaults_are_a_valid_policy():
    assert rules.check_policy(_terms()) == _terms()


@given(
    st.integers(0, 10**5),  # floor
    st.integers(0, 10**8),  # honest active ms
    st.integers(0, 10**6),  # kept piece pay
    st.integers(0, 10**6),  # top-ups net of earlier clawbacks
    st.integers(0, 10**6),  # honest pieces at the risen rate
)
def test_a_clawback_takes_only_top_ups_keeps_honest_pay_and_is_not_repaid(
    floor, active_ms, kept, top_ups, at_rate
):
    paid = kept + top_ups
    claw = rules.clawback(floor, active_ms, paid, top_ups, at_rate=at_rate, kept=kept)
    assert 0 <= claw <= top_ups  # never piece pay, never negative
    after = paid - claw
    assert after >= rules.floor_pay(floor, active_ms) or claw == 0  # honest time at the floor
    assert after >= min(paid, at_rate)
    if claw:  # settling on the same figures tops up nothing: the clawed amount is not repaid
        assert rules.top_up(floor, active_ms, after, at_rate=at_rate) == 0
    # Taking back again on the new figures finds nothing more: idempotent in the figures.
    assert rules.clawback(floor, active_ms, after, top_ups - claw, at_rate=at_rate, kept=kept) == 0
