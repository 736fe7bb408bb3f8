#!/usr/bin/env python3
"""Paired differences between two rows of two experiments' scores.csv files.

Rows are matched on (repeat, mixture files, speaker), so the two runs must
share their repeats and seed (the test mixtures are then the same); B may
hold more repeats than A (a finished run beside the finished repeats of
another, scripts/select_units.py), and only A's mixtures are paired. A row
is a method name as scores.csv writes it ("Selected", "NMF", "DL-NMF") with
an optional layers/bases value after a colon ("NMF:100"). For each speaker
it prints the mean of A, of B and of A - B (with the half-width of its 95%
interval) and the two-sided paired t-test's p-value, for SDR, SIR and SAR.
A sweep's scores.csv holds several configurations of one row: name one
with "@" and its KEY=VALUE settings as the config column writes them
("NMF:400@infer_iters=50"; every setting given must be in the config):

    python3 scripts/paired_rows.py new/scores.csv Selected \
        docs/results/tsp-select15/scores.csv Selected
"""
import csv
import sys

from scipy import stats


def load(path, row):
    row, _, config = row.partition("@")
    method, _, layers = row.partition(":")
    want = set(config.split())
    out = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["method"] != method or (layers and r["layers"] != layers):
                continue
            if want and not want <= set(r.get("config", "").split()):
                continue
            key = (r["repeat"], r["files"], r["speaker"])
            if key in out:
                sys.exit(f"paired_rows: row {row!r} of {path} holds several configurations: "
                         f"name one with @ and the settings that tell it apart, as in \"{row}@{r.get('config', '')}\"")
            out[key] = r
    if not out:
        sys.exit(f"paired_rows: no row {row!r} in {path}")
    return out


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    a, b = load(argv[1], argv[2]), load(argv[3], argv[4])
    keys = sorted(set(a) & set(b))
    if len(keys) != len(a):
        sys.exit(f"paired_rows: {len(a) - len(keys)} of A's {len(a)} scores have no mixture in B: the runs do not share their repeats and seed")
    print(f"{argv[2]} ({argv[1]}) minus {argv[4]} ({argv[3]})")
    print("| speaker | n | metric | A | B | A - B | p |")
    print("|---|---|---|---|---|---|---|")
    for spk in sorted({k[2] for k in keys}):
        ks = [k for k in keys if k[2] == spk]
        for metric in ("sdr", "sir", "sar"):
            xa = [float(a[k][metric]) for k in ks]
            xb = [float(b[k][metric]) for k in ks]
            d = [x - y for x, y in zip(xa, xb)]
            n = len(d)
            mean = sum(d) / n
            half = stats.t.ppf(0.975, n - 1) * stats.sem(d)
            p = stats.ttest_rel(xa, xb).pvalue
            print(f"| {spk} | {n} | {metric.upper()} | {sum(xa) / n:.2f} | {sum(xb) / n:.2f} | {mean:+.2f} ± {half:.2f} | {p:.3g} |")


if __name__ == "__main__":
    main(sys.argv)
