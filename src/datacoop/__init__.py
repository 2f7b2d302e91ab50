"""datacoop: the human data work behind AI, made visible, fairly paid and co-owned."""

__version__ = "0.1.0"
