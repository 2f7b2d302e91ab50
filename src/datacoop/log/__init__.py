"""The persisted transparency log: entries, stored subtree hashes, signed tree heads, receipts."""
