#!/usr/bin/env python3
"""The ~3 Mbp training set of scripts/bench/markers.sh TIME3M=1: the task's
training sequences, then a variant of each (3% of the bases substituted at
random, seed 1, so that no record repeats another) until TARGET bases.

usage: markers-variants.py TRAIN.fa TRAIN.lineage.tsv TARGET OUT.fa OUT.tsv"""
import random
import sys


def main():
    fa, tsv, target, out_fa, out_tsv = sys.argv[1:6]
    random.seed(1)
    lab = dict(l.rstrip('\n').split('\t')[:2] for l in open(tsv))
    seqs, order = {}, []
    for line in open(fa):
        line = line.rstrip('\n')
        if line.startswith('>'):
            name = line[1:].split()[0]
            seqs[name] = []
            order.append(name)
        else:
            seqs[name].append(line)
    seqs = {k: ''.join(v) for k, v in seqs.items()}
    total = 0
    with open(out_fa, 'w') as f, open(out_tsv, 'w') as t:
        for i in order:
            f.write(f'>{i}\n{seqs[i]}\n')
            t.write(f'{i}\t{lab[i]}\n')
            total += len(seqs[i])
        for i in order:
            if total >= int(target):
                break
            s = ''.join(random.choice('ACGT') if random.random() < 0.03 else b for b in seqs[i])
            f.write(f'>{i}_var\n{s}\n')
            t.write(f'{i}_var\t{lab[i]}\n')
            total += len(s)


main()
