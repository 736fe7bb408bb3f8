#!/usr/bin/env python3
"""What the finished repeats of a `dlnmf experiment --select` run say so far.

`dlnmf experiment --summarize` (and the run itself) writes results.md only
when every unit is there. This reads the units folder of a run that is
still going or was stopped (OUT/units), keeps the repeats whose selection
unit has finished, and writes, for those repeats only:

  - OUT_PARTIAL/scores.csv, in the experiment's format (the experiment's
    rows, then Selected), so that scripts/paired_rows.py can pair it with
    another run of the same repeats and seed;
  - on stdout, each repeat's validation SDR per grid point and its choice.

Pair Selected with a row, of this run or of a longer one, with
scripts/paired_rows.py on that scores.csv.

The run resumes where it stopped: the same command with the same -o
computes only the missing units.

    python3 scripts/select_units.py out/select/units out/select-partial
    python3 scripts/paired_rows.py out/select-partial/scores.csv Selected \
        out/select-partial/scores.csv NMF:100
"""
import csv
import glob
import json
import os
import sys


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    units, out = argv[1], argv[2]
    rows, selected, choices = [], [], {}
    for path in sorted(glob.glob(os.path.join(units, "u*.json"))):
        if path.endswith(".time.json"):
            continue
        with open(path) as f:
            u = json.load(f)
        if u["family"] == "select":
            choices[u["repeat"]] = u["selection"]
            selected += u["scores"]
        else:  # a unit of the experiment's rows
            rows += u["scores"]
    if not choices:
        sys.exit(f"select_units: no finished selection unit in {units}")
    done = sorted(choices)
    rows = [s for s in rows if s["repeat"] in choices]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "scores.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["repeat", "mixture", "files", "method", "layers", "speaker", "sdr", "sir", "sar", "si_sdr", "config"])
        for s in sorted(rows, key=lambda s: (s["repeat"], s["mixture"], s["method"])) + sorted(selected, key=lambda s: (s["repeat"], s["mixture"])):
            w.writerow([s["repeat"], s["mixture"], s["files"], s["method"], ",".join(map(str, s["layers"])), s["speaker"],
                        *(f"{s[m]:.4f}" for m in ("sdr", "sir", "sar", "si_sdr")), s.get("config", "")])
    print(f"{len(done)} finished repeats: {', '.join(map(str, done))}")
    print("\n| repeat | " + " | ".join(p["config"] for p in choices[done[0]]["points"]) + " | chosen |")
    print("|---" * (len(choices[done[0]]["points"]) + 2) + "|")
    for r in done:
        c = choices[r]
        print(f"| {r} | " + " | ".join(f"{p['sdr']:.2f}" for p in c["points"]) + f" | {c['config']} |")
    means = [sum(choices[r]["points"][i]["sdr"] for r in done) / len(done) for i in range(len(choices[done[0]]["points"]))]
    print("| mean | " + " | ".join(f"{m:.2f}" for m in means) + " | |")


if __name__ == "__main__":
    main(sys.argv)
