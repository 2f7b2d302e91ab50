"""Data valuation: how much each item, and each contributor, adds to what a dataset is worth.

See ``docs/valuation.md`` for the formulas, references and which value the platform uses
for what.
"""
