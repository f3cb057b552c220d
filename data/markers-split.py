#!/usr/bin/env python3
"""Builds the marker-gene (16S) genus task of scripts/bench/markers.sh.

Sequences: NCBI's Combined16SrRNA collection (ncbi-data; FASTA from
blastdbcmd on stdin, titles "ID Genus species ..."). Lineages
(domain;phylum;class;order;family;genus): from dada2's ten_16s.100.fa.gz,
then rdp-classifier's new_trainset.fasta (six ranks below Root only); the
two disagree on some higher ranks (Enterobacterales / Enterobacteriales),
so every taxon keeps the ancestry it was first seen with (ten_16s first,
names compared without case, as the RDP Classifier does) and the
lineages form one tree.
Genera kept: a known lineage, at least 2 named species and 4 sequences.
Per genus the species with the fewest sequences (ties: by name) is the test
species: all of its sequences (at most TEST_CAP) go to the test set and
none to training, so every test sequence is a species never seen in
training. The other species' sequences train (at most TRAIN_CAP per genus,
in file order). Exact duplicate sequences are kept once.

usage: markers-split.py TEN_16S.fa.gz RDP_TRAINSET.fasta OUTDIR < combined16s.fa
writes OUTDIR/{train,test}.fa, {train,test}.lineage.tsv (id, lineage),
{train,test}.genus.tsv (id, genus) and task.txt (a summary)."""
import collections, gzip, re, sys

TRAIN_CAP, TEST_CAP, MIN_SPECIES, MIN_SEQS = 20, 5, 2, 4


def read_fasta(f):
    name, seq = None, []
    for line in f:
        line = line.rstrip('\n')
        if line.startswith('>'):
            if name is not None:
                yield name, ''.join(seq)
            name, seq = line[1:], []
        else:
            seq.append(line.strip())
    if name is not None:
        yield name, ''.join(seq)


def clean(name):
    return re.sub(r'[^A-Za-z0-9_.-]', '_', name.strip('"'))


def lineages(ten16s, rdp):
    lin = {}
    with gzip.open(ten16s, 'rt') as f:
        for title, _ in read_fasta(f):
            m = re.search(r'tax=(.*?);?$', title)
            ranks = [clean(p.split(':', 1)[1]) for p in m.group(1).split(',')]
            if len(ranks) == 6:
                lin.setdefault(ranks[-1], ranks)
    with open(rdp) as f:
        for title, _ in read_fasta(f):
            ranks = [clean(p) for p in title.split('\t')[1].split(';')[1:]]
            if len(ranks) == 6:
                lin.setdefault(ranks[-1], ranks)
    return harmonise(lin)


def harmonise(lin):
    """One ancestry per (rank, name): a lineage takes the known ancestry of
    its deepest taxon already seen above the genus."""
    canon = {}
    for genus in lin:  # insertion order: ten_16s first
        r = lin[genus]
        for d in range(4, -1, -1):
            if (d, r[d].lower()) in canon:
                r = list(canon[(d, r[d].lower())]) + r[d + 1:]
                break
        for d in range(6):
            canon.setdefault((d, r[d].lower()), tuple(r[:d + 1]))
        lin[genus] = r
    return lin


def main():
    ten16s, rdp, out = sys.argv[1:4]
    lin = lineages(ten16s, rdp)
    seqs, seen = collections.defaultdict(lambda: collections.defaultdict(list)), set()
    for title, seq in read_fasta(sys.stdin):
        words = title.split()
        acc = words[0].rstrip('|').split('|')[-1]
        if len(words) < 3 or not re.fullmatch(r'[A-Z][a-z]+', words[1]) or \
                not re.fullmatch(r'[a-z]+', words[2]) or words[1] not in lin:
            continue
        seq = re.sub(r'[^ACGTN]', 'N', seq.upper().replace('U', 'T'))
        if seq in seen or len(seq) < 500:
            continue
        seen.add(seq)
        seqs[words[1]][words[2]].append((acc, seq))
    sets = {'train': [], 'test': []}
    for genus in sorted(seqs):
        species = seqs[genus]
        if len(species) < MIN_SPECIES or sum(len(v) for v in species.values()) < MIN_SEQS:
            continue
        test = min(species, key=lambda s: (len(species[s]), s))
        sets['test'] += [(genus, test, a, s) for a, s in species[test][:TEST_CAP]]
        train = [(genus, sp, a, s) for sp in species if sp != test for a, s in species[sp]]
        sets['train'] += train[:TRAIN_CAP]
    for part, rows in sets.items():
        with open(f'{out}/{part}.fa', 'w') as fa, open(f'{out}/{part}.lineage.tsv', 'w') as fl, \
                open(f'{out}/{part}.genus.tsv', 'w') as fg:
            for genus, sp, acc, seq in rows:
                fa.write(f'>{acc} {genus} {sp}\n')
                for i in range(0, len(seq), 80):
                    fa.write(seq[i:i + 80] + '\n')
                fl.write(f'{acc}\t{";".join(lin[genus])}\n')
                fg.write(f'{acc}\t{genus}\n')
    with open(f'{out}/task.txt', 'w') as f:
        for part, rows in sets.items():
            f.write(f'{part}: {len(rows)} sequences, {len({r[0] for r in rows})} genera, '
                    f'{len({(r[0], r[1]) for r in rows})} species, {sum(len(r[3]) for r in rows)} bp\n')


main()
