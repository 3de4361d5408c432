"""Reading inputs: every file, line or stream ends as a Document or an InputFailure, in order,
with a unique id."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from harness.documents import (
    Document,
    InputFailure,
    decode,
    is_multi,
    iter_documents,
    iter_jsonl,
    read_text_file,
)

STORY = "Bridge reopens in Brenna\n\nBrenna, 12 May 2024 - The council reopened the bridge on Monday.\n"


def items(*paths: Path | str, max_chars: int = 10_000, stdin: bytes | None = None):
    return list(iter_documents([str(p) for p in paths], max_chars, io.BytesIO(stdin) if stdin is not None else None))


def test_a_text_file_is_a_document_with_title_and_date(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    [doc] = items(path)
    assert isinstance(doc, Document)
    assert (doc.id, doc.title, doc.source) == ("story", "Bridge reopens in Brenna", str(path))
    assert doc.published == "2024-05-12"
    assert doc.text == STORY and doc.warnings == []


def test_a_utf8_bom_is_not_part_of_the_text():
    text, warnings, error = decode(b"\xef\xbb\xbfHello", "x")
    assert (text, warnings, error) == ("Hello", [], None)


def test_invalid_utf8_is_replaced_with_a_warning():
    text, warnings, error = decode(b"caf\xe9 au lait \xff", "x")
    assert error is None and text == "caf\ufffd au lait \ufffd"
    assert warnings == ["invalid UTF-8 at byte 3: 2 character(s) replaced with U+FFFD"]


def test_binary_is_refused():
    text, _, error = decode(b"GIF89a\x00\x01\x02", "pic.txt")
    assert text is None and "pic.txt" in error and "binary" in error


@pytest.mark.parametrize("content, what", [(b"", "is empty"), (b" \n\t\r\n", "is only whitespace")])
def test_empty_and_blank_files_are_failures(tmp_path, content, what):
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    failure = read_text_file(path, 100)
    assert isinstance(failure, InputFailure) and what in failure.message and failure.id == "blank"


def test_too_long_is_refused_naming_the_limit(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("word " * 300, encoding="utf-8")
    failure = read_text_file(path, 1000)
    assert isinstance(failure, InputFailure)
    assert "1,500 characters" in failure.message and "1,000" in failure.message
    assert "HARNESS_MAX_DOC_CHARS" in failure.message
    assert isinstance(read_text_file(path, 1500), Document)  # the limit itself is allowed


def test_a_folder_is_read_in_name_order_skipping_hidden_and_other_files(tmp_path):
    (tmp_path / "b.txt").write_text("Second story text.", encoding="utf-8")
    (tmp_path / "a.md").write_text("First story text.", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("Hidden.", encoding="utf-8")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\x00")
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "j1", "text": "From JSONL."}) + "\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.txt").write_text("Not recursed.", encoding="utf-8")
    assert [i.id for i in items(tmp_path)] == ["a", "b", "j1"]


def test_a_dangling_link_in_a_folder_is_a_failure_with_the_files_id(tmp_path):
    (tmp_path / "ok.txt").write_text("A story.", encoding="utf-8")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    found = items(tmp_path)
    assert [i.id for i in found] == ["gone", "ok"]
    assert isinstance(found[0], InputFailure) and "no such file" in found[0].message


def test_jsonl_lines_become_documents_or_failures():
    lines = [
        json.dumps({"id": "x1", "text": "One.", "title": "T", "published": "2024-01-02", "source": "wire"}),
        b"   ",
        "not json",
        json.dumps({"id": 7, "body": "no text"}),
        json.dumps({"text": "No id."}),
        json.dumps("just a string"),
    ]
    raw = [line.encode() if isinstance(line, str) else line for line in lines]
    out = list(iter_jsonl(raw, "/data/in.jsonl", 1000))
    assert [i.id for i in out] == ["x1", "in.jsonl:3", "7", "in.jsonl:5", "in.jsonl:6"]
    first = out[0]
    assert (first.title, first.published, first.source) == ("T", "2024-01-02", "wire")
    assert "line 3 is not JSON" in out[1].message
    assert 'string "text" field' in out[2].message and 'string "text" field' in out[4].message
    assert isinstance(out[3], Document) and out[3].source == "/data/in.jsonl"


def test_duplicate_ids_get_a_suffix_and_a_warning(tmp_path):
    batch = tmp_path / "b.jsonl"
    batch.write_text("".join(json.dumps({"id": "same", "text": f"Story {i}."}) + "\n" for i in range(3))
                     + json.dumps({"id": "same"}) + "\n", encoding="utf-8")
    found = items(batch)
    assert [i.id for i in found] == ["same", "same~2", "same~3", "same~4"]
    assert found[0].warnings == []
    assert found[1].warnings == ["duplicate id 'same': this record is 'same~2'"]
    assert isinstance(found[3], InputFailure) and "duplicate id 'same'" in found[3].message


def test_the_same_file_twice_is_two_records(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    assert [i.id for i in items(path, path)] == ["story", "story~2"]


def test_stdin_text_and_stdin_jsonl():
    [doc] = items("-", stdin=STORY.encode())
    assert doc.id == "stdin" and doc.title == "Bridge reopens in Brenna"
    lines = b'{"id": "s1", "text": "One."}\n{"id": "s2", "text": "Two."}\n'
    assert [i.id for i in items("-", stdin=lines)] == ["s1", "s2"]
    [empty] = items("-", stdin=b"")
    assert isinstance(empty, InputFailure) and "empty" in empty.message


def test_a_missing_path_is_a_failure(tmp_path):
    [failure] = items(tmp_path / "nope.txt")
    assert isinstance(failure, InputFailure) and failure.id == "nope"
    assert "no such file or folder" in failure.message


def test_inputs_are_read_lazily(tmp_path):
    batch = tmp_path / "b.jsonl"
    batch.write_text("".join(json.dumps({"id": f"d{i}", "text": "x"}) + "\n" for i in range(1000)), encoding="utf-8")
    stream = iter_documents([str(batch)], 100)
    assert next(stream).id == "d0"  # no need to read the whole file first


@pytest.mark.parametrize("inputs, multi", [
    (["a.txt"], False), (["a.jsonl"], True), (["a.NDJSON"], True), (["-"], True), (["a.txt", "b.txt"], True),
])
def test_is_multi(inputs, multi):
    assert is_multi(inputs) is multi


def test_a_folder_is_multi(tmp_path):
    assert is_multi([str(tmp_path)])


RE3D = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "re3d" / "us-state-department" / "documents.json"


def test_a_json_lines_export_is_read_line_by_line_with_its_ids_and_urls(tmp_path):
    # the shape of re3d's documents.json (a mongoexport): "_id", "sourceUrl", one object per line
    path = tmp_path / "documents.json"
    rows = [{"_id": "108A8", "sourceUrl": "https://www.state.gov/1.htm", "title": "Attacks", "text": STORY},
            {"_id": {"$oid": "5f1"}, "text": STORY}, {"_id": "x9", "body": STORY}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert is_multi([str(path)])
    got = items(path)
    assert [(d.id, d.source) for d in got[:2]] == [("108A8", "https://www.state.gov/1.htm"), ("5f1", str(path))]
    assert isinstance(got[2], InputFailure) and got[2].id == "x9" and '"text"' in got[2].message


@pytest.mark.skipif(not RE3D.exists(), reason="the shared corpus is not next to this checkout")
def test_the_re3d_export_reads_as_its_documents():
    got = items(RE3D, max_chars=100_000)
    assert len(got) == 22 and all(isinstance(d, Document) for d in got)
    assert got[0].id == "108A8CFC05CC3139A6E65B7A4239F5C6" and got[0].source.startswith("https://www.state.gov/")


def test_a_json_file_holds_one_document_or_an_array_of_them(tmp_path):
    one, many, bad = tmp_path / "one.json", tmp_path / "many.json", tmp_path / "bad.json"
    one.write_text(json.dumps({"text": STORY, "url": "https://example.org/a"}, indent=2), encoding="utf-8")
    many.write_text(json.dumps([{"id": "a", "text": STORY}, {"text": STORY}, "not an object"]), encoding="utf-8")
    bad.write_text(STORY, encoding="utf-8")  # an article saved as .json
    assert not is_multi([str(one)]) and is_multi([str(many)])
    (doc,) = items(one)
    assert (doc.id, doc.source, doc.text) == ("one", "https://example.org/a", STORY)
    a, b, c = items(many)
    assert (a.id, b.id) == ("a", "many.json:2") and isinstance(c, InputFailure) and c.id == "many.json:3"
    (failure,) = items(bad)
    assert isinstance(failure, InputFailure) and "is not JSON" in failure.message and ".txt" in failure.message


def test_a_folder_skips_json_files(tmp_path):
    (tmp_path / "a.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / "entities.json").write_text('{"_id": "e1", "type": "Person"}\n', encoding="utf-8")
    assert [d.id for d in items(tmp_path)] == ["a"]


def test_fields_of_other_types_are_read_or_left_out_with_a_warning():
    lines = [json.dumps(obj).encode() for obj in (
        {"id": 3, "text": "One.", "title": 1.5, "published": {"$date": {"$numberLong": "1706572800000"}}},
        {"id": ["x"], "text": "Two.", "title": ["a"], "published": {"$date": "2024-01-30T10:00:00Z"}, "url": {}},
        {"id": True, "text": "Three \ud800.", "published": 1999, "source": "wire"},
        {"id": "big", "text": "Four.", "published": {"$date": 10**30}},
    )]
    one, two, three, four = iter_jsonl(lines, "in.jsonl", 1000)
    assert (one.id, one.title, one.published) == ("3", "1.5", "2024-01-30T00:00:00+00:00")
    assert (two.id, two.title, two.published, two.source) == ("in.jsonl:2", None, "2024-01-30T10:00:00Z", "in.jsonl")
    assert two.warnings == ['"id" is a list, not a string or number: this record is \'in.jsonl:2\'',
                            '"title" is a list, not text: left out', '"url" is an object, not text: left out']
    assert (three.id, three.text, three.published) == ("in.jsonl:3", "Three \ufffd.", "1999")
    assert "lone UTF-16 surrogate(s) in the input replaced with U+FFFD" in three.warnings
    assert three.sha256  # writable as UTF-8
    assert four.published is None and any("is no date" in w for w in four.warnings)


def test_result_lines_are_skipped_with_one_warning():
    result = {"doc_id": "a", "events": [], "claims": [], "grounding": {}, "error": None}
    lines = [json.dumps(result).encode(), json.dumps({"id": "b", "text": "Two."}).encode()] + [json.dumps(result).encode()]
    warnings: list[str] = []
    assert [d.id for d in iter_jsonl(lines, "in.jsonl", 1000, warnings.append)] == ["b"]
    assert warnings == [("in.jsonl: line 1, 3: a harness Result, not a document: skipped (extract reads "
                         "articles; its Results are output)")]


def test_nothing_is_read_past_the_size_limit(tmp_path):
    text = tmp_path / "long.txt"
    text.write_text("x" * 5000, encoding="utf-8")
    [failure] = items(text, max_chars=1000)
    assert "is 5,000 bytes" in failure.message and "not read" in failure.message
    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps({"id": "big", "text": "x" * 2_000_000}) + "\n" + json.dumps({"id": "ok", "text": "Hi."})
                     + "\n", encoding="utf-8")
    big, ok = items(batch, max_chars=1000)
    assert isinstance(big, InputFailure) and big.id == "b.jsonl:1" and "not read" in big.message
    assert isinstance(ok, Document) and ok.id == "ok"


def test_deep_nesting_and_huge_numbers_are_failures_not_crashes():
    lines = [b"[" * 5000 + b"]" * 5000, b'{"id": "n", "text": "x", "n": ' + b"9" * 5000 + b"}"]
    deep, huge = iter_jsonl(lines, "in.jsonl", 1000)
    assert "nested too deeply" in deep.message and "not JSON" in huge.message


def test_an_id_a_suffix_already_took_gets_another():
    lines = [json.dumps({"id": i, "text": "x"}).encode() for i in ("a", "a", "a~2")]
    assert [d.id for d in iter_documents_from(lines)] == ["a", "a~2", "a~2~2"]


def iter_documents_from(lines: list[bytes]):
    return list(iter_documents(["-"], 1000, io.BytesIO(b"\n".join(lines) + b"\n")))


def test_stdin_jsonl_after_a_bom_and_a_folder_fifo(tmp_path):
    assert [d.id for d in items("-", stdin=b'\xef\xbb\xbf{"id": "s1", "text": "One."}\n')] == ["s1"]
    (tmp_path / "a.txt").write_text("A story.", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.txt")
    warnings: list[str] = []
    found = list(iter_documents([str(tmp_path)], 1000, warn=warnings.append))
    assert [d.id for d in found] == ["a"] and "pipe.txt is not a regular file" in warnings[0]
