"""Render the reliability suite's results file as docs/reliability.md."""

import json
import sys
from pathlib import Path


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    lines = [
        "# Reliability",
        "",
        "Produced by `make reliability` (one run; seeded). Figures as the suite recorded them.",
        "",
    ]
    for name, figures in results.items():
        lines += [f"## {name}", "", "| measure | value |", "| --- | --- |"]
        lines += [
            f"| {key} | {json.dumps(value) if isinstance(value, dict) else value} |"
            for key, value in figures.items()
        ]
        lines.append("")
    Path(sys.argv[2]).write_text("\n".join(lines))


if __name__ == "__main__":
    main()
