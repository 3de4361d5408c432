"""Chunking: sentence boundaries, chunk sizes, overlaps and offsets into the whole document."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.chunking import chunk_text, sentence_spans
from harness.errors import ConfigError

SEEDS = Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22"  # copies of the seeds
WIRE = (SEEDS / "000_b1a854914bfb7f38.txt").read_text(encoding="utf-8")
REWORDED = (SEEDS / "002_eaa5d8ad86e5cbbc.txt").read_text(encoding="utf-8")


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = (
        "Maj. Gen. Pat Ryder spoke to the U.S. press on Jan. 30. Mr. Biden said J. Kirby agreed. "
        "Prices rose 3.5 percent."
    )
    assert sentences(text) == [
        "Maj. Gen. Pat Ryder spoke to the U.S. press on Jan. 30.",
        "Mr. Biden said J. Kirby agreed.",
        "Prices rose 3.5 percent.",
    ]


def test_quotes_and_line_breaks_end_sentences() -> None:
    text = 'He said, "We will respond." Then he left\nA new paragraph! "Is it over?" she asked.'
    assert sentences(text) == [
        'He said, "We will respond."',
        "Then he left",
        "A new paragraph!",
        '"Is it over?" she asked.',
    ]


def test_seed_sentences_are_trimmed_and_cover_every_word() -> None:
    spans = sentence_spans(WIRE)
    assert "Maj Gen Pat Ryder responded during a briefing" in WIRE[spans[8][0] : spans[8][1]]
    assert WIRE[spans[0][0] : spans[0][1]].startswith("Iran-backed militia in Iraq")
    covered = set()
    for a, b in spans:
        assert WIRE[a:b] == WIRE[a:b].strip()
        covered.update(range(a, b))
    assert all(i in covered for i, ch in enumerate(WIRE) if not ch.isspace())
    # "Mr. Biden" in the second seed stays inside its sentence
    assert any(
        REWORDED[a:b].endswith("significant escalation by Mr. Biden.")
        for a, b in sentence_spans(REWORDED)
    )


def test_short_document_is_one_chunk() -> None:
    chunks = chunk_text(WIRE, max_chars=len(WIRE), overlap=100)
    assert len(chunks) == 1
    assert (chunks[0].start, chunks[0].end, chunks[0].text) == (0, len(WIRE), WIRE)


@pytest.mark.parametrize(("max_chars", "overlap"), [(600, 150), (1000, 0), (1500, 400)])
def test_long_document_chunks_are_bounded_aligned_and_overlapping(
    max_chars: int, overlap: int
) -> None:
    text = WIRE + "\n" + REWORDED
    chunks = chunk_text(text, max_chars=max_chars, overlap=overlap)
    assert len(chunks) > 1
    starts = {a for a, _ in sentence_spans(text)}
    ends = {b for _, b in sentence_spans(text)}
    for i, chunk in enumerate(chunks):
        assert chunk.index == i
        assert chunk.text == text[chunk.start : chunk.end]
        assert len(chunk.text) <= max_chars
        assert chunk.start in starts and chunk.end in ends
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.start < after.start and before.end < after.end
        shared = max(0, before.end - after.start)
        assert shared <= overlap
        if overlap == 0:
            assert shared == 0
    # every word of the document is in some chunk
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_overlap_repeats_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} says something." for i in range(60))
    chunks = chunk_text(text, max_chars=300, overlap=80)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start < before.end  # they share text
        assert text[after.start : before.end].endswith("says something.")


def test_sentence_longer_than_a_chunk_is_cut_at_whitespace() -> None:
    text = "Intro sentence. " + " ".join(["word"] * 400) + ". Outro."
    chunks = chunk_text(text, max_chars=250, overlap=50)
    assert all(len(c.text) <= 250 for c in chunks)
    for chunk in chunks:
        assert not chunk.text[0].isspace() and not chunk.text[-1].isspace()
        assert chunk.start == 0 or text[chunk.start - 1].isspace()
    assert chunks[-1].text.endswith("Outro.")


@pytest.mark.parametrize(("max_chars", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_impossible_settings_are_a_config_error(max_chars: int, overlap: int) -> None:
    with pytest.raises(ConfigError, match="HARNESS_CHUNK"):
        chunk_text(WIRE, max_chars=max_chars, overlap=overlap)
