"""stance: stance and tone of statements in news articles."""

__version__ = "0.1.0"
