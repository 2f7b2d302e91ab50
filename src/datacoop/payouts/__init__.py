"""Payouts: members' payout methods, payout batches and their bank exports."""
