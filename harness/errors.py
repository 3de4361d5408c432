"""Every error harness raises on purpose, in one tree. Each message says what to do next.

    HarnessError
    ├── ConfigError          bad settings or usage (CLI exit 2)
    ├── OutputError          the output could not be written mid-run: documents are missing (exit 3)
    ├── InputError           a document that cannot be read or used (error record)
    ├── EndpointError        the model endpoint failed after retries (error record)
    │   ├── ModeRefusedError     no structured-output mechanism was accepted
    │   └── LocalServerError     the embedded server could not start or died
    ├── ExtractionError      the model's output never validated, or was cut off (error record)
    ├── ModelFileError       local model weights missing or corrupt
    └── FixtureError         an eval fixture or gold file is malformed
"""

from __future__ import annotations


class HarnessError(Exception):
    """Root of every error harness raises on purpose."""

    @property
    def kind(self) -> str:
        return type(self).__name__


class ConfigError(HarnessError):
    """Settings or command-line usage that cannot work."""


class OutputError(HarnessError):
    """Results could not be written during a run (a full disk, a closed pipe): some are missing."""


class InputError(HarnessError):
    """A document that cannot be read, decoded or used."""


class EndpointError(HarnessError):
    """The endpoint failed after every retry. Carries the endpoint (never a key) and the cause."""

    def __init__(self, message: str, endpoint: str = "", cause: BaseException | None = None):
        where = f" [{endpoint}]" if endpoint else ""
        super().__init__(f"{message}{where}")
        self.endpoint = endpoint
        self.cause = cause


class ModeRefusedError(EndpointError):
    """The endpoint refused every structured-output mechanism that was tried."""


class LocalServerError(EndpointError):
    """The embedded llama.cpp server could not start, or stopped answering."""


class ExtractionError(HarnessError):
    """The model answered, but never with output that validates (or it was cut off)."""


class ModelFileError(HarnessError):
    """Local model weights are missing, incomplete or fail their checksum."""


class FixtureError(HarnessError):
    """An eval fixture, gold file or baseline that does not load; names the file and field."""
