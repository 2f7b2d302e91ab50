"""Members: people, roles, pseudonyms, per-project contributor ids, API tokens, sessions."""
