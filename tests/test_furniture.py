"""Page furniture: link, widget, subscription and cookie lines found; article sentences kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.furniture import find_furniture, original_offset, without
from harness.grounding import locate

SEEDS = Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22"  # copies of the seeds
WIRE = (SEEDS / "000_b1a854914bfb7f38.txt").read_text(encoding="utf-8")
REWORDED = (SEEDS / "002_eaa5d8ad86e5cbbc.txt").read_text(encoding="utf-8")


def test_second_seed_see_also_and_author_lines_and_nothing_else() -> None:
    ranges = find_furniture(REWORDED)
    lines = [REWORDED[a:b] for a, b in ranges]
    assert len(lines) == 4
    assert lines[0].startswith("See also\u00a0 Harry Potter actor Warwick Davis") and lines[
        0
    ].endswith("\n")
    assert lines[1].startswith("See also\u00a0 Alaska Airlines Plane") and lines[1].endswith("\n")
    assert lines[2:] == ["About The Author\n", "Share"]
    assert ranges[-1][1] == len(REWORDED)


def test_first_seed_has_no_furniture() -> None:
    assert find_furniture(WIRE) == []


def test_without_removes_exactly_the_ranges() -> None:
    shown = without(REWORDED, find_furniture(REWORDED))
    assert "See also" not in shown and "About The Author" not in shown
    assert not shown.rstrip().endswith("Share")
    assert len(REWORDED) - len(shown) == sum(b - a for a, b in find_furniture(REWORDED))
    kept = [line for line in REWORDED.splitlines() if line.strip()]
    assert sum(1 for line in kept if line in shown) == len(kept) - 4


@pytest.mark.parametrize(
    "line",
    [
        "Read more: Iran warns US over Tower 22 strike",
        "Related: What we know about Kataib Hezbollah",
        "Advertisement",
        "Story continues below advertisement",
        "Share this article",
        "Share  Facebook  Twitter  Email",
        "Follow us on Twitter",
        "Follow BBC News on Facebook and Instagram",
        "Subscribe to our daily briefing",
        "Sign up for our World Today newsletter",
        "We use cookies to improve your experience. Accept all cookies",
        "\u00a9 2024 Example News. All rights reserved.",
        "Click here to read the full statement.",
    ],
)
def test_known_furniture_lines(line: str) -> None:
    text = f"Three soldiers were killed on Sunday.\n{line}\nThe US has vowed to respond.\n"
    ranges = find_furniture(text)
    assert [text[a:b] for a, b in ranges] == [line + "\n"]


@pytest.mark.parametrize(
    "line",
    [
        "Share prices fell sharply after the strike, traders said.",
        "Read more books, the minister urged students on Monday.",
        "See also the statement, which the Pentagon released on Tuesday, for details of the "
        "response that officials described as measured and proportionate and entirely defensive "
        "in nature and scope, as the spokesperson put it to reporters who had gathered.",
        "Follow the money on Wall Street, he told reporters.",
        "Copyright lawsuits against the outlet rose in 2023.",
        "Iran has issued a warning, stating that it will respond to any aggression.",
        "The newsletter's editor said readers should subscribe to be informed.",
        "About the author of the report, little is known.",
    ],
)
def test_real_sentences_are_kept(line: str) -> None:
    assert find_furniture(f"{line}\n") == []


def test_grounding_avoids_furniture_unless_nothing_else_matches() -> None:
    ranges = find_furniture(REWORDED)
    # "Alaska Airlines" only occurs in a furniture line: found there as a last resort
    match = locate("Alaska Airlines", REWORDED, exclude=ranges)
    assert match is not None and any(a <= match.start < b for a, b in ranges)
    # a word in a furniture line and in the article: the article's occurrence wins
    text = "Share\nShare prices fell.\n"
    assert locate("Share", text, exclude=find_furniture(text)).start == 6


def test_offsets_in_the_shown_text_map_back_to_the_full_text() -> None:
    ranges = find_furniture(REWORDED)
    shown = without(REWORDED, ranges)
    for sentence in (
        "Nevertheless, a Pentagon spokeswoman",
        "He refuted claims",
        "He stated that these",
    ):
        at = shown.index(sentence)
        assert original_offset(at, ranges) == REWORDED.index(sentence)
    assert original_offset(0, ranges) == 0
    assert original_offset(len(shown), ranges) == len(REWORDED)
