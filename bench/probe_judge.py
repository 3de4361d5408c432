"""Can the embedded model judge whether two claims of two reports say the same thing?

A probe, not a benchmark: it asks the model, once per pair of claims from the seed pair's
recorded Results (``python -m harness eval`` writes them), whether both reports convey the same
statement, with the sentences around each claim and three worked examples, and prints the
verdicts. Session 4 ran it against Qwen2.5-Coder-1.5B on llama-server: ``false`` for all 9
pairs, the two the comparison already aligns lexically (Ryder's quotation, the attack count)
included, so an LLM-judged alignment step recorded on this model would align nothing.

    llama-server -m qwen2.5-coder-1.5b-instruct.gguf --port 8091 ...   # or any endpoint
    python bench/probe_judge.py --base-url http://127.0.0.1:8091/v1 --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.config import Settings  # noqa: E402
from harness.endpoint import Endpoint  # noqa: E402
from harness.quotes import sentence_starts  # noqa: E402

RESULTS = ROOT / "evals" / "report" / "results"
SYSTEM = """You compare two news reports of the same story. You are shown one attributed statement from each report, with the sentences around it.
Decide whether both reports convey the same statement: the same assertion about the same thing (the same accusation, fact, figure or position), even if it is reworded, shortened, made vaguer, or attributed to a less specific or different speaker. Resolve words like "it" or "the group" from the sentences around.
Answer "different" when the two statements assert different things, even about the same topic or by the same speaker.

Example 1. A: The ministry said the bridge was destroyed by rebel shelling. B: A ministry official acknowledged that rebels had probably shelled it. -> same (B is vaguer).
Example 2. A: The ministry said the bridge was destroyed by rebel shelling. B: The ministry said aid convoys would resume on Monday. -> different.
Example 3. A: Washington blames the militia for the rocket attack. B: An embassy spokesman said the attack resembled the militia's earlier operations. -> same (B is vaguer)."""
#: (seed-000 claim, seed-002 claim, what a reader would answer), ids of the session-4 Results
PAIRS = [
    ("c11", "c24", "same: the United States implicates Kataib Hezbollah / a Pentagon spokeswoman"),
    ("c9", "c11", "same: Pat Ryder's quotation, reworded"),
    ("c13", "c21", "same: approximately 166 attacks / a significant number of attacks"),
    ("c11", "c10", "same in part: the US holds Iran responsible / attributes responsibility"),
    ("c11", "c20", "different speakers, related: Mike Turner blames Iran"),
    ("c11", "c3", "different"), ("c8", "c24", "different"), ("c10", "c24", "different"),
    ("c5", "c16", "different"),
]  # fmt: skip


class Verdict(BaseModel):
    same_statement: bool


def context(text: str, start: int, end: int) -> str:
    """The claim's sentence(s) and the sentence before."""
    starts = sentence_starts(text)
    first = max([s for s in starts if s <= start] or [0])
    before = max([s for s in starts if s < first] or [first])
    after = min([s for s in starts if s >= end] or [len(text)])
    return " ".join(text[before:after].split())


def block(label: str, claim: dict, text: str) -> str:
    who = ", ".join(x for x in (claim["speaker"].get("name"), claim["speaker"].get("role")) if x)
    where = context(text, claim["content"]["start"], claim["content"]["end"])
    return f'Report {label}\nSentences: {where}\nStatement: {who}: "{claim["content"]["text"]}"'


async def main(base_url: str, model: str) -> None:
    a, b = (json.loads((RESULTS / f"{n}.json").read_text()) for n in ("seed-000-tower22", "seed-002-tower22-rewrite"))
    claims_a, claims_b = ({c["id"]: c for c in r["claims"]} for r in (a, b))
    settings = Settings(base_url=base_url, model=model, max_tokens=32)
    endpoint = Endpoint(settings, base_url, model)
    try:
        for ia, ib, expected in PAIRS:
            user = f"{block('A', claims_a[ia], a['text'])}\n\n{block('B', claims_b[ib], b['text'])}\n\nDo both reports convey the same statement?"
            verdict, _ = await endpoint.extract([{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}], Verdict)
            print(f"{ia} / {ib}: same_statement={verdict.same_statement}  (a reader: {expected})", flush=True)
    finally:
        await endpoint.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    asyncio.run(main(args.base_url, args.model))
