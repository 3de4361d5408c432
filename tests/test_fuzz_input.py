"""Fuzzing the input edge (issue #22): hypothesis writes JSONL batches whose lines are
documents with fields of any JSON type (strings with line separators, lone surrogates and
escape codes, numbers, NaN, lists, objects, MongoDB's ``{"$date": ...}``), nesting deeper than
Python's recursion limit, a BOM, or raw bytes; the loopback endpoint fails some documents
(``FAULT:`` markers). Each batch runs through ``extract``, and the output is read back the way
``view``, ``compare`` and ``--resume`` read it.

What must hold for every batch: the run ends (no exception), every non-blank line gives exactly
one record under a unique id, and every reader of Result files sees all of them. (Before the
fixes of #22 this found: a number as ``title`` crashing the batch, a 1,000-deep line crashing
it, and a title with U+2028 making ``view`` refuse the output.)
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai_server import FakeOpenAI, by_marker

from harness.batch import run_extract
from harness.compare import load_results
from harness.output import prepare_resume
from harness.pipeline import Options
from harness.view import view_main

TEXT = "The council of Brenna met on Monday and approved the budget for the new bridge, the mayor said."
BOM = b"\xef\xbb\xbf"
#: endpoint faults that cost no waiting (no Retry-After, no hang)
FAULTS = ["", "", "", " FAULT:500", " FAULT:not-json", " FAULT:bad-schema", " FAULT:always-503",
          " FAULT:refusal", " FAULT:empty-choices", " FAULT:drop", " FAULT:inject"]

awkward = st.sampled_from(["\u2028", "\u2029", "\x85", "\ud800", "\udfff", "\x1b[31m", "\ufeff", "\r\n",
                           "\x00", "", " ", "\u202e", "~2", "..", "a/b"])
strings = st.one_of(st.text(max_size=12), awkward, st.tuples(st.text(max_size=6), awkward).map("".join))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), strings)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=5,
)
mongo = st.one_of(
    st.builds(lambda v: {"$date": v}, st.one_of(st.integers(), strings,
                                                 st.integers().map(lambda n: {"$numberLong": str(n)}))),
    st.builds(lambda v: {"$oid": v}, strings),
)
fields = st.one_of(values, mongo)


@st.composite
def document_line(draw: st.DrawFn) -> bytes:
    text = draw(st.one_of(
        st.tuples(st.just(TEXT), strings, st.sampled_from(FAULTS)).map(lambda t: f"{t[0]} {t[1]}{t[2]}"),
        fields,
    ))
    obj = {"text": text}
    for name in ("id", "_id", "title", "published", "source", "url"):
        if draw(st.integers(0, 2)) == 0:
            obj[name] = draw(fields)
    line = json.dumps(obj, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 6)) == 0:  # nesting past the recursion limit
        depth = draw(st.integers(900, 3000))
        line = line[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    raw = line.encode("utf-8", "surrogatepass")  # a lone surrogate unescaped is invalid UTF-8
    return BOM + raw if draw(st.integers(0, 6)) == 0 else raw


lines = st.one_of(document_line(), document_line(), st.binary(max_size=24).filter(lambda b: b"\n" not in b))
batches = st.lists(lines, min_size=1, max_size=5)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(by_marker()) as server:
        yield server


@given(batch=batches)
@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_any_batch_gives_one_readable_record_per_line(endpoint, fast_settings, batch):
    run_settings = fast_settings(endpoint.base_url)  # a factory: the same for every example
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "batch.jsonl", Path(folder) / "out.jsonl"
        source.write_bytes(b"\n".join(batch) + b"\n")
        asyncio.run(run_extract([str(source)], run_settings, Options(include_text=True), out=out, quiet=True))

        expected = sum(1 for line in batch if line.strip())
        written = out.read_bytes().decode("utf-8").split("\n")
        assert written.pop() == ""  # whole lines only
        records = [json.loads(line) for line in written]
        ids = [r["doc_id"] for r in records]
        assert len(records) == expected and len(set(ids)) == expected

        assert [r.doc_id for r, _ in load_results(out)] == ids  # compare's reader
        assert set(prepare_resume(out)) == set(ids)  # --resume's reader: everything is done
        if expected:  # view: a page per record
            assert view_main(out, Path(folder) / "pages", None) == 0
            assert len(list((Path(folder) / "pages").iterdir())) == expected
