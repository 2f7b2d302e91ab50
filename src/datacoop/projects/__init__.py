"""Projects: task schemas, instructions, items and their import."""
