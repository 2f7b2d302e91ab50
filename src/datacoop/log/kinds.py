"""The closed set of log entry kinds and the fields each payload holds.

Every payload holds only pseudonymous ids, integers, booleans and hashes: never a name, an
email or a raw answer, so erasing a person never breaks the log. ``docs/ledger.md`` documents
each kind; a test fails when one is missing there.
"""

from __future__ import annotations

import enum


class EntryKind(enum.StrEnum):
    member_joined = "member:joined"
    project_created = "project:created"
    items_imported = "items:imported"
    submission_accepted = "submission:accepted"
    valuation_computed = "valuation:computed"
    pay_posted = "pay:posted"
    pay_policy = "pay:policy"
    rejection_decided = "rejection:decided"


# The exact payload fields of each kind (besides "v", "kind" and "ts", which every entry has).
FIELDS: dict[EntryKind, frozenset[str]] = {
    EntryKind.member_joined: frozenset({"member", "role"}),
    EntryKind.project_created: frozenset(
        {
            "project",
            "task_type",
            "overlap",
            "pay_per_item",
            "estimated_seconds",
            "currency",
            "instructions_sha256",
        }
    ),
    EntryKind.items_imported: frozenset({"project", "import", "items", "file_sha256"}),
    EntryKind.submission_accepted: frozenset(
        {
            "project",
            "item",
            "submission",
            "contributor",
            "answer_sha256",
            "active_ms",
            "wall_ms",
            "late",
        }
    ),
    EntryKind.valuation_computed: frozenset(
        {"project", "run", "method", "input_tree_size", "contributors", "run_sha256"}
    ),
    EntryKind.pay_posted: frozenset({"posting", "posting_kind", "project", "currency", "lines"}),
    EntryKind.pay_policy: frozenset(
        {
            "policy",
            "currency",
            "floor_hourly",
            "hard_minimum_hourly",
            "fee_bps",
            "fee_cap_bps",
            "auto_approve_days",
            "appeal_days",
            "payout_threshold",
        }
    ),
    EntryKind.rejection_decided: frozenset(
        {
            "project",
            "submission",
            "contributor",
            "reason",
            "outcome",
            "steward",
            "withheld",
            "clawed_back",
        }
    ),
}
