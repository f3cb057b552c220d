#!/usr/bin/env python3
"""Converters to the prediction format of markers-metrics.py
(id<TAB>lineage<TAB>confidence per rank) for scripts/bench/markers.sh.

  markers-lineage.py rdp-tax TRAIN.lineage.tsv TAXONOMY.txt TRAIN.fa OUT.fa
      the RDP Classifier's taxonomy file and its training FASTA (id<TAB>Root;lineage)
  markers-lineage.py rdp RDP_OUT
      the RDP Classifier's allrank output
  markers-lineage.py kraken-tax TRAIN.lineage.tsv TRAIN.fa TAXDIR OUT.fa TAXMAP
      nodes.dmp, names.dmp, the library FASTA (kraken:taxid) and taxid -> lineage
  markers-lineage.py kraken KRAKEN_OUT TAXMAP
  markers-lineage.py genoformer CLASSIFY.tsv
      classify's output for lineage classes: the top class (predicted) and
      its lineage_conf column (per rank the summed probability of the
      classes below the top class's taxon)"""
import sys


def fasta(path):
    name, seq = None, []
    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('>'):
            if name:
                yield name, ''.join(seq)
            name, seq = line[1:].split()[0], []
        else:
            seq.append(line)
    if name:
        yield name, ''.join(seq)


def lineages(path):
    return dict(l.rstrip('\n').split('\t')[:2] for l in open(path))


def rdp_tax(lin_path, tax_out, fa_in, fa_out):
    lin = lineages(lin_path)
    ranks = ['domain', 'phylum', 'class', 'order', 'family', 'genus']
    ids = {(): 0}
    with open(tax_out, 'w') as t:
        t.write('0*Root*-1*0*rootrank\n')
        for path in sorted(set(lin.values())):
            parts = tuple(path.split(';'))
            for d in range(1, len(parts) + 1):
                if parts[:d] not in ids:
                    ids[parts[:d]] = len(ids)
                    t.write(f'{ids[parts[:d]]}*{parts[d - 1]}*{ids[parts[:d - 1]]}*{d}*{ranks[d - 1]}\n')
    with open(fa_out, 'w') as f:
        for name, seq in fasta(fa_in):
            f.write(f'>{name}\tRoot;{lin[name]}\n{seq}\n')


def rdp(out):
    for line in open(out):
        f = line.rstrip('\n').split('\t')
        names, conf = [], []
        for i in range(2, len(f) - 2, 3):
            if f[i + 1] in ('rootrank', ''):
                continue
            names.append(f[i])
            conf.append(f[i + 2])
        print(f'{f[0]}\t{";".join(names)}\t{";".join(conf)}')


def kraken_tax(lin_path, fa_in, taxdir, fa_out, taxmap):
    lin = lineages(lin_path)
    ranks = ['superkingdom', 'phylum', 'class', 'order', 'family', 'genus']
    ids = {(): 1}
    with open(f'{taxdir}/nodes.dmp', 'w') as nodes, open(f'{taxdir}/names.dmp', 'w') as names, \
            open(taxmap, 'w') as tm:
        nodes.write('1\t|\t1\t|\tno rank\t|\n')
        names.write('1\t|\troot\t|\t\t|\tscientific name\t|\n')
        for path in sorted(set(lin.values())):
            parts = tuple(path.split(';'))
            for d in range(1, len(parts) + 1):
                if parts[:d] not in ids:
                    i = ids[parts[:d]] = 100 + len(ids)
                    nodes.write(f'{i}\t|\t{ids[parts[:d - 1]]}\t|\t{ranks[d - 1]}\t|\n')
                    names.write(f'{i}\t|\t{parts[d - 1]}\t|\t\t|\tscientific name\t|\n')
                    tm.write(f'{i}\t{";".join(parts[:d])}\n')
    with open(fa_out, 'w') as f:
        for name, seq in fasta(fa_in):
            f.write(f'>{name}|kraken:taxid|{ids[tuple(lin[name].split(";"))]}\n{seq}\n')


def kraken(out, taxmap):
    tm = dict(l.rstrip('\n').split('\t') for l in open(taxmap))
    for line in open(out):
        f = line.split('\t')
        path = tm.get(f[2], '') if f[0] == 'C' else ''
        n = len(path.split(';')) if path else 0
        print(f'{f[1]}\t{path}\t{";".join(["1"] * n)}')


def genoformer(tsv):
    lines = [l for l in open(tsv).read().splitlines() if not l.startswith('#')]
    col = {name: i for i, name in enumerate(lines[0].split('\t'))}
    for line in lines[1:]:
        f = line.split('\t')
        print(f'{f[0]}\t{f[col["predicted"]]}\t{f[col["lineage_conf"]]}')


cmd = sys.argv[1]
{'rdp-tax': rdp_tax, 'rdp': rdp, 'kraken-tax': kraken_tax, 'kraken': kraken, 'genoformer': genoformer}[cmd](*sys.argv[2:])
