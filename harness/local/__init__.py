"""The embedded local model: GGUF files (``models``) and the llama.cpp server running them."""

from .models import DEFAULT_MODEL, LocalModel, known_models, resolve_model
from .server import LocalServer, embedded_server, serve_foreground

__all__ = [
    "DEFAULT_MODEL",
    "LocalModel",
    "LocalServer",
    "embedded_server",
    "known_models",
    "resolve_model",
    "serve_foreground",
]
