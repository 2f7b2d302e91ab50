"""Valuation: persisted data-valuation runs over a project and each contributor's value."""
