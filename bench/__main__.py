"""`python -m bench` (`make bench`): run every benchmark, save each JSON under bench/results/, print a summary.

Choose a subset with BENCH=quality,suggestion,... (names below). Nothing here is a test: figures are
measured on this machine and quoted as ratios against a baseline measured in the same run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BENCHES = {
    "quality": ["bench.quality"],
    "demo_pairs": ["bench.demo_pairs"],
    "suggestion": ["bench.suggestion_bench"],
    "index": ["bench.index_bench"],
    "buyer_group_threshold": ["bench.buyer_group_threshold"],
    "anonymiser": ["bench.anonymiser_bench"],
    # A set written by someone who never saw the anonymiser's code: the honest figure.
    "anonymiser_blind": ["bench.anonymiser_bench", "--cases", "bench/anonymiser_blind.json"],
    "lexical_live": ["bench.lexical_live"],
    "thin_queries": ["bench.thin_queries"],
    "calibration": ["bench.calibration"],
    "calibration_combined": ["bench.calibration", "--engine", "use-multilingual-v3+e5-small", "--no-save"],
    "dense_fusion": ["bench.dense_fusion", "--engine", "use-multilingual-v3", "--engine", "e5-small"],
    "ltr": ["bench.ltr", "--no-results"],
}


def main() -> int:
    chosen = [b for b in os.environ.get("BENCH", ",".join(BENCHES)).split(",") if b]
    RESULTS.mkdir(exist_ok=True)
    summary: dict[str, object] = {}
    failed = 0
    for name in chosen:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", *BENCHES[name]], capture_output=True, text=True)
        seconds = round(time.perf_counter() - started, 1)
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        if result.returncode != 0 or not lines:
            failed += 1
            summary[name] = {"error": result.stderr[-2000:], "seconds": seconds}
            continue
        data = json.loads(lines[-1])
        (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
        summary[name] = {"saved": f"bench/results/{name}.json", "seconds": seconds}
    print(json.dumps(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
