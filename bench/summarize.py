"""One table from several ``bench/run.py --json`` files: medians over every run.

    .venv/bin/python bench/summarize.py bench/results/run1.json bench/results/run2.json ...

Every file must hold the same servers and scenarios. A ratio ours/Django is
still taken within one file and one repeat (the two servers ran back to back
in the same invocation), then the median of all those ratios is shown.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchlib import Measure
from run import Row, table


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    rows: dict[tuple[str, str, str], Row] = {}
    headers = []
    for path in paths:
        data = json.loads(Path(path).read_text())
        headers.append(data["header"])
        for item in data["rows"]:
            key = (item["database"], item["scenario"], item["server"])
            row = rows.setdefault(key, Row(*key, item["description"], item["processes"], runs=[]))
            row.runs += [Measure.from_raw(raw) for raw in item["runs"]]
    counts = {len(row.runs) for row in rows.values()}
    assert len(counts) == 1, "the files do not hold the same servers and scenarios"
    print(f"{len(paths)} invocations, {counts.pop()} measured runs per cell:\n")
    for header in headers:
        print(f"- {header}")
    print()
    print(table(list(rows.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
