#!/usr/bin/env python3
"""Metrics of scripts/bench/markers.sh from one tool's predictions.

usage: markers-metrics.py TRUTH.lineage.tsv PRED.tsv TOOL TRAIN_S CLASSIFY_S
TRUTH: id<TAB>lineage (six ranks, ';'-joined). PRED: id<TAB>lineage of the
tool's top call (ranks it did not reach left empty)<TAB>confidence of each
rank (';'-joined, 0-1). Prints one TSV row: tool, genus accuracy, genus
macro-F1, accuracy at each rank (top call, no cut-off), genus calls with
confidence >= 0.8 (share of records), confidently wrong (genus confidence
>= 0.8 and wrong, share of records), train and classify seconds."""
import sys

RANKS = ['domain', 'phylum', 'class', 'order', 'family', 'genus']
CUT = 0.8


def main():
    truth_path, pred_path, tool, train_s, class_s = sys.argv[1:6]
    truth = dict(l.rstrip('\n').split('\t')[:2] for l in open(truth_path))
    pred = {}
    for line in open(pred_path):
        f = line.rstrip('\n').split('\t')
        names = f[1].split(';') if f[1] else []
        conf = [float(x) for x in f[2].split(';')] if len(f) > 2 and f[2] else []
        pred[f[0]] = (names + [''] * 6)[:6], (conf + [0.0] * 6)[:6]
    n = len(truth)
    right = [0] * 6
    conf_calls = conf_wrong = 0
    tp, fp, fn = {}, {}, {}
    for rid, lin in truth.items():
        t = lin.split(';')
        p, c = pred.get(rid, ([''] * 6, [0.0] * 6))
        for r in range(6):
            right[r] += p[r] == t[r]
        g, tg = p[5], t[5]
        if c[5] >= CUT and g:
            conf_calls += 1
            conf_wrong += g != tg
        if g == tg:
            tp[tg] = tp.get(tg, 0) + 1
        else:
            fn[tg] = fn.get(tg, 0) + 1
            if g:
                fp[g] = fp.get(g, 0) + 1
    f1 = []
    for cls in set(tp) | set(fp) | set(fn):
        a, b, m = tp.get(cls, 0), fp.get(cls, 0), fn.get(cls, 0)
        f1.append(2 * a / (2 * a + b + m) if a else 0.0)
    row = [tool, f'{right[5] / n:.3f}', f'{sum(f1) / len(f1):.3f}'] + [f'{x / n:.3f}' for x in right[:5]] + \
          [f'{conf_calls / n:.3f}', f'{conf_wrong / n:.3f}', train_s, class_s]
    print('\t'.join(row))


main()
