"""Independent re-implementation, in numpy, of the metrics of calculate_log.py in the authors' code
(alinlab/Confident_classifier, src/calculate_log.py), for the tests of confcal/metrics.

It follows the published functions rule for rule: the thresholds are numpy.arange(start, end, gap)
with start/end the minimum/maximum over all scores and gap = (end - start)/200000 (AUPR-out sweeps
numpy.arange(end, start, -gap)); TPR counts in >= delta; the FPR of tpr95/auroc/detection counts
out > delta, AUPR-in's counts out >= delta; AUPR-out flags q < delta; the sums run in the same
order. Only the counting differs: numpy.searchsorted over sorted copies instead of one numpy.sum
per threshold (same counts, much faster).

Input on stdin: a JSON list of cases {"in": [...], "out": [...], "windows": [[lo, hi], ...]}
("windows" optional). Output on stdout: a JSON list with, per case, {"tnr": %, "auroc": %,
"detection": %, "aupr_in": %, "aupr_out": %, "window_tnr": [% per window], "grid": [number of
increasing thresholds, number of decreasing thresholds]}.
"""
import json
import sys

import numpy as np


def counts(sorted_scores, grid, side):
    # side="left": number of scores < delta; side="right": number of scores <= delta.
    return np.searchsorted(sorted_scores, grid, side=side)


def metrics(data):
    X1 = np.sort(np.asarray(data["in"], dtype=np.float64))   # in-distribution
    Y1 = np.sort(np.asarray(data["out"], dtype=np.float64))  # out-of-distribution
    nx, ny = float(len(X1)), float(len(Y1))
    end = np.max([np.max(X1), np.max(Y1)])
    start = np.min([np.min(X1), np.min(Y1)])
    gap = (end - start) / 200000

    up = np.arange(start, end, gap)
    x_lt = counts(X1, up, "left")
    y_lt = counts(Y1, up, "left")
    y_le = counts(Y1, up, "right")
    tpr_up = [float(v) for v in (len(X1) - x_lt) / nx]      # in >= delta
    fpr_gt = [float(v) for v in (len(Y1) - y_le) / ny]      # out > delta
    fpr_ge = [float(v) for v in (len(Y1) - y_lt) / ny]      # out >= delta
    miss = [float(v) for v in x_lt / nx]                    # in < delta

    def tnr(lo, hi):
        total, fpr = 0.0, 0.0
        for t, f in zip(tpr_up, fpr_gt):
            if t <= hi and t >= lo:
                fpr += f
                total += 1
        return 100 * (1 - (1.0 if total == 0 else fpr / total))

    auroc, prev = 0.0, 1.0
    for t, f in zip(tpr_up, fpr_gt):
        auroc += (-f + prev) * t
        prev = f

    err = 1.0
    for m, f in zip(miss, fpr_gt):
        err = min(err, (m + f) / 2.0)

    aupr_in, prev_recall = 0.0, 1.0
    for t, f in zip(tpr_up, fpr_ge):
        if t + f == 0:
            continue
        precision, recall = t / (t + f), t
        aupr_in += (prev_recall - recall) * precision
        prev_recall = recall
    aupr_in += recall * precision

    down = np.arange(end, start, -gap)
    fp_dn = [float(v) for v in counts(X1, down, "left") / nx]  # in < delta
    tp_dn = [float(v) for v in counts(Y1, down, "left") / ny]  # out < delta
    aupr_out, prev_recall = 0.0, 1.0
    for tp, fp in zip(tp_dn, fp_dn):
        if tp + fp == 0:
            break
        precision, recall = tp / (tp + fp), tp
        aupr_out += (prev_recall - recall) * precision
        prev_recall = recall
    aupr_out += recall * precision

    return {
        "tnr": tnr(0.94, 0.96),
        "auroc": 100 * auroc,
        "detection": 100 * (1 - err),
        "aupr_in": 100 * aupr_in,
        "aupr_out": 100 * aupr_out,
        "window_tnr": [tnr(lo, hi) for lo, hi in data.get("windows", [])],
        "grid": [len(up), len(down)],
    }


json.dump([metrics(case) for case in json.load(sys.stdin)], sys.stdout)
