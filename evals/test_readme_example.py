"""The README's example Result is what the pipeline gives today: every event and claim it shows
equals the one replayed from the seed fixture's cassette, and every warning it lists is given."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SEED = "seed-000-tower22"
MODEL = "qwen2.5-coder-1.5b"  # the README's example is the embedded default model's


def test_readme_example_is_the_replayed_result(eval_run):
    if eval_run.model != MODEL or SEED not in eval_run.results:
        pytest.skip(f"the README shows {MODEL}'s Result; this run replays {eval_run.model}")
    block = re.search(r'```json\n(\{\n "doc_id": "seed-000-tower22".*?)```', README.read_text(encoding="utf-8"), re.S)
    assert block, "the README lost its example Result"
    shown = json.loads(block.group(1))
    result = json.loads(eval_run.results[SEED].model_dump_json())
    events = {e["id"]: e for e in result["events"]}
    claims = {c["id"]: c for c in result["claims"]}
    for event in shown["events"]:
        assert events.get(event["id"]) == event, f"README event {event['id']} differs from the replay"
    for claim in shown["claims"]:
        assert claims.get(claim["id"]) == claim, f"README claim {claim['id']} differs from the replay"
    missing = [w for w in shown["warnings"] if w != "..." and w not in result["warnings"]]
    assert not missing, f"README warnings no longer given: {missing}"
