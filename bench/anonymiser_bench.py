"""How well does the knowledge base's anonymiser find personal data? Span-level precision and recall.

`python -m bench.anonymiser_bench [--cases FILE] [--split dev|holdout] [--errors]` prints one JSON object.

- Cases: bench/anonymiser_cases.json, hand-written sentences in Dutch, French and English with the
  spans of personal data each holds (kind and exact text); negatives hold none and must stay clean.
  `split` "dev" was written alongside the detector (its figures are optimistic); "holdout" was
  written after it and not tuned on.
- Each case runs through `anonymiser.detect` with the municipality CSVs as the platform's places
  (what the Municipality table holds) and the case's own `context` (people, organisations, ...).
- A detection counts as a true positive only if its kind and its exact span match an expected one;
  a right span of the wrong kind counts once as a false positive (detected kind) and once as a false
  negative (expected kind). `overlap` is the laxer figure: any overlap with an expected span of the
  same kind counts.
- Per kind and overall (micro-averaged): tp, fp, fn, precision, recall; `clean_negatives`: the share
  of negative sentences with no detection at all. `--errors` also lists every miss and false alarm.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from proeftuin.services.anonymiser import KINDS, Context, detect
from proeftuin.services.anonymiser.lexicon import table_places

CASES = Path(__file__).resolve().parent / "anonymiser_cases.json"


def expected_spans(case: dict) -> list[tuple[int, int, str]]:
    """The expected (start, end, kind); a text that occurs several times is matched in order."""
    spans, seen = [], Counter()
    for span in case["spans"]:
        text = span["text"]
        start = -1
        for _ in range(seen[text] + 1):
            start = case["text"].index(text, start + 1)
        seen[text] += 1
        spans.append((start, start + len(text), span["kind"]))
    return spans


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def score(cases: list[dict]) -> tuple[dict, list[dict]]:
    places = sorted(table_places())
    tp, fp, fn = Counter(), Counter(), Counter()
    overlap_tp, overlap_found = Counter(), Counter()
    errors: list[dict] = []
    negatives = clean = 0
    for case in cases:
        raw = case.get("context", {})
        context = Context(people=raw.get("people", []), emails=raw.get("emails", []),
                          organisations=raw.get("organisations", []), places=places,
                          challenges=raw.get("challenges", []), domains=raw.get("domains", []))
        found = {(d.start, d.end, d.kind) for d in detect(case["text"], context)}
        expected = set(expected_spans(case))
        if not expected:
            negatives += 1
            clean += not found
        for _, _, kind in found & expected:
            tp[kind] += 1
        for start, end, kind in found - expected:
            fp[kind] += 1
            errors.append({"case": case["id"], "false_alarm": kind, "text": case["text"][start:end]})
        for start, end, kind in expected - found:
            fn[kind] += 1
            errors.append({"case": case["id"], "missed": kind, "text": case["text"][start:end]})
        for start, end, kind in expected:
            if any(k == kind and s < end and start < e for s, e, k in found):
                overlap_tp[kind] += 1
        for start, end, kind in found:
            if any(k == kind and s < end and start < e for s, e, k in expected):
                overlap_found[kind] += 1
    per_kind = {}
    for kind in KINDS:
        if tp[kind] + fp[kind] + fn[kind] == 0:
            continue
        per_kind[kind] = {"tp": tp[kind], "fp": fp[kind], "fn": fn[kind],
                          "precision": _ratio(tp[kind], tp[kind] + fp[kind]),
                          "recall": _ratio(tp[kind], tp[kind] + fn[kind])}
    total_tp, total_fp, total_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    total_found = total_tp + total_fp
    overall = {"tp": total_tp, "fp": total_fp, "fn": total_fn,
               "precision": _ratio(total_tp, total_found), "recall": _ratio(total_tp, total_tp + total_fn),
               "overlap_precision": _ratio(sum(overlap_found.values()), total_found),
               "overlap_recall": _ratio(sum(overlap_tp.values()), total_tp + total_fn)}
    return {"overall": overall, "per_kind": per_kind, "cases": len(cases), "negatives": negatives,
            "clean_negatives": _ratio(clean, negatives)}, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--split", choices=("dev", "holdout", "probe"), default=None, help="one split only")
    parser.add_argument("--errors", action="store_true", help="list the misses and false alarms")
    args = parser.parse_args()
    cases = json.loads(args.cases.read_text(encoding="utf-8"))["cases"]
    started = time.perf_counter()
    result: dict = {"bench": "anonymiser"}
    splits = [args.split] if args.split else sorted({c.get("split", "dev") for c in cases})
    for split in splits:
        result[split], errors = score([c for c in cases if c.get("split", "dev") == split])
        if args.errors:
            result[split]["errors"] = errors
    if not args.split:
        result["all"], _ = score(cases)
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
