#!/usr/bin/env python3
"""What KrakenTools' scripts do with Kraken 2's files, for tests/cli/t_kraken.sh:
Debian ships neither KrakenTools nor Krona, so their parsing is followed here
line for line (KrakenTools 1.2: extract_kraken_reads.py, kreport2krona.py).

  kraken_consumers.py extract KRAKEN_OUT REPORT TAXID [--include-children]
      ids of the reads extract_kraken_reads.py -t TAXID would pull out
  kraken_consumers.py krona REPORT
      kreport2krona.py's text for ktImportText (main ranks only)
"""
import sys


def report_tree(path):
    """extract_kraken_reads.py's process_kraken_report: level from the name's
    indentation (two spaces a level), rank code, taxid; parent = nearest
    shallower line before."""
    nodes, stack = [], []
    with open(path) as f:
        for line in f:
            cols = line.strip('\n').split('\t')
            if len(cols) < 6:
                sys.exit("report line with %d columns: %r" % (len(cols), line))
            name = cols[5]
            level = (len(name) - len(name.lstrip(' '))) // 2
            taxid = int(cols[4])
            while stack and stack[-1][0] >= level:
                stack.pop()
            parent = stack[-1][1] if stack else None
            nodes.append((taxid, parent, cols[3], name.strip(), int(cols[1]), int(cols[2])))
            stack.append((level, taxid))
    return nodes


def extract(kraken_out, report, taxid, children):
    want = {taxid}
    if children:
        nodes = report_tree(report)
        grew = True
        while grew:
            grew = False
            for t, p, *_ in nodes:
                if p in want and t not in want:
                    want.add(t)
                    grew = True
    with open(kraken_out) as f:
        for line in f:
            cols = line.rstrip('\n').split('\t')
            tax = cols[2]
            if '(taxid' in tax:  # kraken2 --use-names
                tax = tax.split('(taxid ')[-1].rstrip(')')
            if int(tax) in want:
                print(cols[1])


def krona(report):
    """kreport2krona.py: for each main-rank line (and the U line) with reads
    assigned directly, its count and the path of main ranks, d__ k__ p__ c__
    o__ f__ g__ s__ prefixes."""
    main = {'D': 'd__', 'K': 'k__', 'P': 'p__', 'C': 'c__', 'O': 'o__', 'F': 'f__', 'G': 'g__', 'S': 's__'}
    path = []  # (level, label)
    for taxid, parent, rank, name, clade, direct in annotated(report):
        level, code = rank
        if code == 'U':
            print('%d\tUnclassified' % direct)
            continue
        if code not in main:
            continue
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, main[code] + name.replace(' ', '_')))
        if direct:
            print('%d\t%s' % (direct, '\t'.join(p for _, p in path)))


def annotated(report):
    with open(report) as f:
        for line in f:
            cols = line.rstrip('\n').split('\t')
            name = cols[5]
            level = (len(name) - len(name.lstrip(' '))) // 2
            yield int(cols[4]), None, (level, cols[3]), name.strip(), int(cols[1]), int(cols[2])


if __name__ == '__main__':
    if len(sys.argv) >= 5 and sys.argv[1] == 'extract':
        extract(sys.argv[2], sys.argv[3], int(sys.argv[4]), '--include-children' in sys.argv[5:])
    elif len(sys.argv) == 3 and sys.argv[1] == 'krona':
        krona(sys.argv[2])
    else:
        sys.exit(__doc__)
