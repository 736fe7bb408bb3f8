#!/usr/bin/python3
# Reference values for stats_test.go, computed with Debian's scipy
# (run: /usr/bin/python3 stats/testdata/reference.py). The numbers it prints
# are hard-coded in stats_test.go; tests never call Python.
import numpy as np
from scipy import stats

a = np.array([6.76, 7.12, 5.98, 8.40, 6.05, 7.77, 6.31, 7.02])
b = np.array([6.28, 6.90, 6.10, 7.65, 5.50, 7.40, 6.33, 6.41])
print("scipy", __import__("scipy").__version__)
for name, x in (("a", a), ("b", b)):
    n = len(x)
    sd = x.std(ddof=1)
    half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    print(f"{name}: mean={x.mean()!r} std={sd!r} ci95={half!r}")
d = a - b
res = stats.ttest_rel(a, b)
half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
print(f"paired a-b: meandiff={d.mean()!r} ci95={half!r} t={res.statistic!r} p={res.pvalue!r}")
x2 = np.array([1.0, 3.0])
print("two:", x2.mean(), x2.std(ddof=1), stats.t.ppf(0.975, 1) * x2.std(ddof=1) / np.sqrt(2))
