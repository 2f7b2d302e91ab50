"""Fair pay: money in minor units, double-entry postings, the pay policy, funding before
work, settlement with the floor, and statements. See docs/pay.md."""
