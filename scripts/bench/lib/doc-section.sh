#!/usr/bin/env bash
# doc-section.sh DOC TAG TITLE BLOCK: puts the text of file BLOCK into DOC
# between the markers "<!-- TAG: begin -->" and "<!-- TAG: end -->",
# replacing what a previous run put there; without the markers, appends a
# section "## TITLE" holding them. Text around the markers is left alone.
set -euo pipefail
doc=$1 tag=$2 title=$3 block=$4
begin="<!-- $tag: begin -->" end="<!-- $tag: end -->"
if grep -qF "$begin" "$doc"; then
	awk -v b="$begin" -v e="$end" -v f="$block" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' "$doc" >"$doc.tmp"
	mv "$doc.tmp" "$doc"
else
	{ echo; echo "## $title"; echo; echo "$begin"; cat "$block"; echo "$end"; } >>"$doc"
fi
