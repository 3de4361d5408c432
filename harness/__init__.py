"""harness: source-grounded events and claims from news articles, through any OpenAI-compatible endpoint."""

__version__ = "0.1.0"
