"""Disclosure: what the cooperative publishes about itself, with small groups suppressed."""
