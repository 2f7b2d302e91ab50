"""Quality: persisted aggregation runs, worker skills, agreement and per-member quality."""
