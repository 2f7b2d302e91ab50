"""Pure pay rules: the policy's limits, what a task costs, what launch needs, and the floor.

Every figure is an integer number of minor units; divisions round in the member's favour
where a member is paid (``ceil``) and in the requester's favour where the cooperative
charges (``floor``), and reservations round up so they always cover what is later posted.
"""

from __future__ import annotations

from dataclasses import dataclass

from datacoop.errors import PermissionDenied, ValidationFailed
from datacoop.members.models import Member, Role

MS_PER_HOUR = 3_600_000
BPS = 10_000


def ceil_div(a: int, b: int) -> int:
    """⌈a / b⌉ for integers, b > 0.

    >>> ceil_div(7, 2), ceil_div(6, 2), ceil_div(0, 5)
    (4, 3, 0)
    """
    return -(-a // b)


@dataclass(frozen=True)
class PolicyTerms:
    """The terms of one pay policy (minor units of ``currency``)."""

    currency: str
    floor_hourly: int
    hard_minimum_hourly: int
    fee_bps: int
    fee_cap_bps: int
    auto_approve_days: int
    appeal_days: int = 14
    payout_threshold: int = 0  # the smallest balance a payout batch pays; 0 = no minimum


def check_policy(terms: PolicyTerms) -> PolicyTerms:
    """Refuse a policy that breaks the cooperative's hard limits, naming every bad field."""
    errors: list[dict[str, str]] = []
    if terms.hard_minimum_hourly < 0:
        errors.append({"field": "hard_minimum_hourly", "message": "must not be negative"})
    if terms.floor_hourly < terms.hard_minimum_hourly:
        errors.append(
            {
                "field": "floor_hourly",
                "message": f"must be at least the hard minimum of {terms.hard_minimum_hourly} "
                f"minor units per hour",
            }
        )
    if not 0 <= terms.fee_cap_bps <= BPS:
        errors.append({"field": "fee_cap_bps", "message": "must be from 0 to 10000"})
    if not 0 <= terms.fee_bps <= terms.fee_cap_bps:
        errors.append(
            {"field": "fee_bps", "message": f"must be from 0 to the cap of {terms.fee_cap_bps}"}
        )
    if not 1 <= terms.auto_approve_days <= 365:
        errors.append({"field": "auto_approve_days", "message": "must be from 1 to 365"})
    if not 1 <= terms.appeal_days <= 365:
        errors.append({"field": "appeal_days", "message": "must be from 1 to 365"})
    if terms.payout_threshold < 0:
        errors.append({"field": "payout_threshold", "message": "must not be negative"})
    if errors:
        raise ValidationFailed(
            "; ".join(f"{e['field']}: {e['message']}" for e in errors), details=errors
        )
    return terms


def fee_of(amount: int, fee_bps: int) -> int:
    """The cooperative's fee on ``amount`` paid to members, rounded down.

    >>> fee_of(1000, 1500), fee_of(5, 1500)
    (150, 0)
    """
    return amount * fee_bps // BPS


def floor_pay(floor_hourly: int, active_ms: int) -> int:
    """What ``active_ms`` of measured work earns at the floor, rounded up.

    >>> floor_pay(1500, 3_600_000), floor_pay(1500, 1)
    (1500, 1)
    """
    return ceil_div(floor_hourly * active_ms, MS_PER_HOUR)


def task_base(pay_per_item: int, estimated_seconds: int, floor_hourly: int) -> int:
    """Pay reserved for one task: max(piece rate, floor × estimated seconds / 3600).

    >>> task_base(5, 10, 1500)  # 5 cents a piece, but the floor says 4.17 -> 5
    5
    >>> task_base(5, 60, 1500)  # one minute at 15.00/h is 25 cents
    25
    """
    return max(pay_per_item, ceil_div(floor_hourly * estimated_seconds, 3600))


def task_cost(base: int, fee_bps: int) -> int:
    """A task's reservation with the fee, rounded up so that fees later posted on any sum
    of task pay (rounded down) never exceed what was reserved.

    >>> task_cost(25, 1500)
    29
    """
    return base + ceil_div(base * fee_bps, BPS)


@dataclass(frozen=True)
class LaunchNeed:
    """What the escrow must hold to launch: ``tasks`` × (``base`` + fee) = ``total``."""

    tasks: int
    base: int
    cost: int  # base + fee per task

    @property
    def pay(self) -> int:
        return self.tasks * self.base

    @property
    def total(self) -> int:
        return self.tasks * self.cost

    @property
    def fee(self) -> int:
        return self.total - self.pay


def launch_need(tasks: int, base: int, fee_bps: int) -> LaunchNeed:
    """items × overlap tasks, each at max(piece, floor × estimate) plus the disclosed fee.

    >>> need = launch_need(100 * 2, 25, 1500)
    >>> need.pay, need.fee, need.total
    (5000, 800, 5800)
    """
    return LaunchNeed(max(0, tasks), base, task_cost(base, fee_bps))


def top_up(floor_hourly: int, active_ms: int, paid: int, *, at_rate: int = 0) -> int:
    """The top-up that brings a member's pay for ``active_ms`` up to the floor, or up to
    ``at_rate`` (their pieces at the risen piece rate, ``risen_piece_rate``) if that is more.

    Cumulative, so settling again adds only what new time earned: never paid twice.

    >>> top_up(1500, 3_600_000, 1000), top_up(1500, 3_600_000, 2000)
    (500, 0)
    >>> top_up(1500, 60_000, 40, at_rate=60)  # the floor asks 25, the risen rate 60
    20
    """
    return max(0, max(floor_pay(floor_hourly, active_ms), at_rate) - paid)


def clawback(
    floor_hourly: int, active_ms: int, paid: int, top_ups: int, *, at_rate: int = 0, kept: int = 0
) -> int:
    """What to take back from a member's top-ups in a project once a steward confirmed that
    some of their work there was fraud (after its piece was withheld):

        justified = max(⌈floor_hourly × honest active_ms / 3 600 000⌉, at_rate, kept)
        clawback  = max(0, min(paid − justified, top_ups))

    ``paid`` is everything paid to the member in the project (pieces, top-ups, less what was
    withheld or clawed back before); ``active_ms`` their counted time on work not confirmed
    as fraud; ``at_rate`` their pieces not withheld × the piece rate risen on honest work
    only; ``kept`` the piece pay they keep; ``top_ups`` their top-ups net of earlier
    clawbacks. The top-up (``top_up``) paid for time that was fraud, or for a rate that
    fraud pushed up, is what honest work no longer justifies; honest work stays paid at the
    floor and at the rate, and piece pay is never taken this way (only ``top_ups`` are).
    Afterwards ``paid`` = ``justified`` whenever anything was taken, so ``top_up`` on the
    same figures is 0: the next settlement does not pay it again.

    >>> # 1 honest minute (25 at 15.00/h) and 5 fraudulent ones: 150 paid, 10 withheld
    >>> clawback(1500, 60_000, 140, 130, at_rate=15, kept=10)
    115
    >>> clawback(1500, 60_000, 25, 15, kept=10)  # already at the floor: nothing
    0
    """
    justified = max(floor_pay(floor_hourly, active_ms), at_rate, kept)
    return max(0, min(paid - justified, top_ups))


def effective_hourly(paid: int, active_ms: int) -> int | None:
    """Everything paid ÷ measured active hours, rounded down; None without measured time.

    >>> effective_hourly(1500, 3_600_000), effective_hourly(10, 0)
    (1500, None)
    """
    if active_ms <= 0:
        return None
    return paid * MS_PER_HOUR // active_ms


def allocate_fees(pays: list[int], fee_bps: int, available: int) -> list[int]:
    """Fees on each payment, members first: when the escrow (``available``) cannot cover
    pay and fees, members are paid in full and the cooperative waives what is left.

    >>> allocate_fees([100, 100], 1500, 1000), allocate_fees([100, 100], 1500, 215)
    ([15, 15], [15, 0])
    """
    budget = max(0, available - sum(pays))
    fees = []
    for pay in pays:
        fee = min(fee_of(pay, fee_bps), budget)
        budget -= fee
        fees.append(fee)
    return fees


def require_steward(member: Member) -> None:
    """Only a steward sets the pay policy, until members vote on it (governance)."""
    if member.role is not Role.steward:
        raise PermissionDenied("only a steward can change the pay policy")


def risen_piece_rate(pay_per_item: int, estimated_seconds: int, active_ms: list[int]) -> int:
    """The piece rate once measured time is known: when the median active time per submission
    exceeds the estimate, pay_per_item × median / estimate, rounded up; otherwise unchanged.

    Prolific's rule, applied per worker at settlement. The median of an even count is the
    mean of the middle two, kept exact by doubling: ⌈pay × 2·median / (2 × estimate)⌉.

    >>> risen_piece_rate(10, 60, [120_000])  # twice the estimate: twice the rate
    20
    >>> risen_piece_rate(10, 60, [30_000, 90_000, 61_000])  # median 61 s -> 10.17 -> 11
    11
    >>> risen_piece_rate(10, 60, [50_000]), risen_piece_rate(10, 60, [])
    (10, 10)
    """
    if not active_ms or estimated_seconds <= 0:
        return pay_per_item
    ordered = sorted(active_ms)
    mid = len(ordered) // 2
    twice_median = 2 * ordered[mid] if len(ordered) % 2 else ordered[mid - 1] + ordered[mid]
    twice_estimate = 2 * estimated_seconds * 1000
    if twice_median <= twice_estimate:
        return pay_per_item
    return ceil_div(pay_per_item * twice_median, twice_estimate)
