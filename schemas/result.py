"""The Result: one per document, the record other tools read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .news import SCHEMA_VERSION, Claim, Event, Strict


class Usage(Strict):
    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)


class Provenance(Strict):
    model: str
    endpoint: str = Field(description="scheme://host[:port]/path of the endpoint; never a key.")
    mode: str | None = Field(None, description="Structured-output mechanism used.")
    prompt: str = Field(description="Prompt template name.")
    prompt_sha256: str
    schema_version: str = SCHEMA_VERSION
    harness_version: str
    usage: Usage = Field(default_factory=Usage)
    attempts: int = Field(0, ge=0, description="Model calls made, re-asks and retries included.")
    latency_s: float = Field(0.0, ge=0)
    chunks: int = Field(1, ge=0, description="Pieces the document was cut into.")


class ErrorInfo(Strict):
    type: str = Field(description="Error class, e.g. EndpointError, InputError.")
    message: str


class GroundingCounts(Strict):
    exact: int = 0
    fuzzy: int = 0
    none: int = 0


class Result(Strict):
    doc_id: str
    title: str | None = None
    published: str | None = None
    source: str | None = None
    text_sha256: str | None = Field(None, description="sha256 of the document text (for --resume).")
    events: list[Event] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    grounding: GroundingCounts = Field(default_factory=GroundingCounts)
    provenance: Provenance | None = None
    warnings: list[str] = Field(default_factory=list)
    error: ErrorInfo | None = None
    text: str | None = Field(None, description="The document text (only with --include-text).")


class GoldResult(BaseModel):
    """A hand-labelled gold file: the Result fields a person labels, nothing else."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str
    events: list[Event] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    notes: str | None = None
