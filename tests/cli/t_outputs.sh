# The output policy through the binary (issue 11, F1 F2): a device, a FIFO,
# standard output and a link are written, never replaced; an output that is
# an input, the model or another output is refused before any work and the
# file is left as it was; permissions survive a rewrite; a full or closed
# standard output fails the run. Device nodes are made with mknod here, in
# $T, never in the real /dev.
set -u
M=data/models/example.gfm
IN=data/samples/small.fa
cp "$IN" "$T/in.fa"
cp "$M" "$T/m.gfm"
printf 'lambda_head\tE.coli\nlambda_soft\tE.coli\ngi|9626243|ref|NC_001416.1|tail\tE.coli\n' >"$T/truth.tsv"
sum() { cksum <"$1"; }
s_in=$(sum "$T/in.fa") s_m=$(sum "$T/m.gfm") s_truth=$(sum "$T/truth.tsv")
intact() {
	[ "$(sum "$T/in.fa")" = "$s_in" ] && [ "$(sum "$T/m.gfm")" = "$s_m" ] && [ "$(sum "$T/truth.tsv")" = "$s_truth" ] ||
		fail "$1: an input was changed"
}

# F1: a character device (as root: mknod in $T) stays a device
if [ "$(id -u)" = 0 ]; then
	mknod "$T/null" c 1 3 && mknod "$T/full" c 1 7 || fail "mknod in $T failed"
	expect_status 0 "$GF" classify -q -m "$M" -o "$T/null" "$IN"
	[ -c "$T/null" ] || fail "-o on a character device replaced it: $(ls -l "$T/null")"
	expect_status 0 "$GF" embed -q -m "$M" -o "$T/null" --ids "$T/null" "$IN"
	[ -c "$T/null" ] || fail "embed -o on a character device replaced it"
	expect_error 1 "[classify] error: $T/full: write failed: No space left on device" \
		"$GF" classify -q -m "$M" -o "$T/full" "$IN"
	[ -c "$T/full" ] || fail "-o on /dev/full's twin replaced it"
	expect_error 1 "[classify] error: standard output: write failed: No space left on device" \
		sh -c '"$GF" classify -q -m "$1" "$2" >"$3"' _ "$M" "$IN" "$T/full"
	expect_error 1 "[genoformer] error: standard output: write failed: No space left on device" \
		sh -c '"$GF" -h >"$1"' _ "$T/full"
	expect_error 1 "[info] error: standard output: write failed: No space left on device" \
		sh -c '"$GF" info "$1" >"$2"' _ "$M" "$T/full"
	mknod "$T/disk" b 7 200 || fail "mknod b failed"
	expect_error 1 "[classify] error: $T/disk: is a block device; not writing onto a disk" \
		"$GF" classify -q -m "$M" -o "$T/disk" "$IN"
fi

# a FIFO is written through, and stays a FIFO
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/from_fifo" &
expect_status 0 "$GF" classify -q -m "$M" -o "$T/fifo" "$IN"
wait
[ -p "$T/fifo" ] || fail "-o on a FIFO replaced it"
[ "$(wc -l <"$T/from_fifo")" = 5 ] || fail "the FIFO's reader got: $(cat "$T/from_fifo")"

# -, /proc/self/fd/1 (what /dev/stdout links to: a regression here cannot
# touch /dev) and a process substitution are standard output / a pipe
# (tables compared without their '#genoformer' line, which names the model
# as given: here once by its absolute path)
rows() { tail -n +2 "$1"; }
gf_abs=$(realpath "$GF") src=$PWD
(cd "$T" && "$gf_abs" classify -q -m "$src/$M" -o - "$src/$IN" >"$T/dash.tsv") || fail "-o - failed"
[ ! -e "$T/-" ] || fail "-o - wrote a file named '-'"
cmp -s <(rows "$T/dash.tsv") <(rows "$T/from_fifo") || fail "-o - differs from the FIFO's table"
"$GF" classify -q -m "$M" -o /proc/self/fd/1 "$IN" | tail -n +2 | cmp -s - <(rows "$T/dash.tsv") || fail "-o /dev/stdout into a pipe"
"$GF" classify -q -m "$M" -o >(cat >"$T/subst.tsv") "$IN" || fail "-o >(...) failed"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T/subst.tsv" ] && break; sleep 0.2; done
cmp -s <(rows "$T/subst.tsv") <(rows "$T/dash.tsv") || fail "-o >(cat) got: $(cat "$T/subst.tsv")"
# -o /dev/stdout with stdout appended to a file appends
cp "$T/dash.tsv" "$T/twice.tsv"
"$GF" classify -q -m "$M" -o /proc/self/fd/1 "$IN" >>"$T/twice.tsv" || fail "-o /dev/stdout >> file"
[ "$(wc -l <"$T/twice.tsv")" = 10 ] || fail "-o /dev/stdout >> did not append: $(wc -l <"$T/twice.tsv") lines"

# F2: an output that is an input, the model or another output
expect_error 1 "[classify] error: $T/in.fa: output is the same file as input $T/in.fa; refusing to overwrite it" \
	"$GF" classify -q -m "$M" -o "$T/in.fa" "$T/in.fa"
expect_error 1 "[embed] error: $T/in.fa: output is the same file as input $T/in.fa; refusing to overwrite it" \
	"$GF" embed -q -m "$M" -o "$T/in.fa" "$T/in.fa"
expect_error 1 "[embed] error: $T/in.fa: output is the same file as input $T/in.fa; refusing to overwrite it" \
	"$GF" embed -q -m "$M" -o "$T/e.npy" --ids "$T/in.fa" "$T/in.fa"
expect_error 1 "[classify] error: $T/m.gfm: output is the same file as input $T/m.gfm; refusing to overwrite it" \
	"$GF" classify -q -m "$T/m.gfm" -o "$T/m.gfm" "$IN"
expect_error 1 "[classify] error: $T/m.gfm: output is the same file as input $T/m.gfm; refusing to overwrite it" \
	"$GF" classify -q -m "$T/m.gfm" --report "$T/m.gfm" "$IN"
expect_error 1 "[eval] error: $T/truth.tsv: output is the same file as input $T/truth.tsv; refusing to overwrite it" \
	"$GF" eval -q -m "$M" --labels "$T/truth.tsv" -o "$T/truth.tsv" "$IN"
expect_error 1 "[classify] error: $T/same.tsv: output is the same file as output $T/same.tsv; refusing to overwrite it" \
	"$GF" classify -q -m "$M" -o "$T/same.tsv" --report "$T/same.tsv" "$IN"
[ ! -e "$T/same.tsv" ] || fail "a refused run left $T/same.tsv"
# the same file under another name: a hard link, a symbolic link, ./
ln "$T/in.fa" "$T/hard.fa" && ln -s in.fa "$T/soft.fa"
expect_error 1 "[classify] error: $T/hard.fa: output is the same file as input $T/in.fa" \
	"$GF" classify -q -m "$M" -o "$T/hard.fa" "$T/in.fa"
expect_error 1 "[classify] error: $T/soft.fa: output is the same file as input $T/in.fa" \
	"$GF" classify -q -m "$M" -o "$T/soft.fa" "$T/in.fa"
expect_error 1 "[classify] error: $T/./x.tsv: output is the same file as output $T/x.tsv" \
	"$GF" classify -q -m "$M" -o "$T/x.tsv" --report "$T/./x.tsv" "$IN"
# standard output appended to an input (cat refuses this too)
expect_error 1 "[tokenize] error: standard output: output is the same file as input $T/in.fa; refusing to overwrite it" \
	sh -c '"$GF" tokenize -q "$1" >>"$1"' _ "$T/in.fa"
expect_error 1 "[classify] error: standard output: output is the same file as input $T/in.fa" \
	sh -c '"$GF" classify -q -m "$2" "$1" >>"$1"' _ "$T/in.fa" "$M"
intact "F2"

# a link the user names is written through: the link stays, its target
# gets the table and keeps its permissions
printf 'old\n' >"$T/target.tsv" && chmod 640 "$T/target.tsv" && ln -s target.tsv "$T/link.tsv"
expect_status 0 "$GF" classify -q -m "$M" -o "$T/link.tsv" "$IN"
[ -L "$T/link.tsv" ] || fail "the link was replaced by a file"
cmp -s "$T/target.tsv" "$T/from_fifo" || fail "the link's target did not get the table"
[ "$(stat -c %a "$T/target.tsv")" = 640 ] || fail "the target's mode changed to $(stat -c %a "$T/target.tsv")"
expect_error 1 "[classify] error: $T/dangling: is a symbolic link whose target does not exist; not created" \
	sh -c 'ln -s nowhere/x "$1/dangling" && "$GF" classify -q -m "$2" -o "$1/dangling" "$3"' _ "$T" "$M" "$IN"

# permissions and (as root) owner survive a rewrite
printf 'old\n' >"$T/perm.tsv" && chmod 600 "$T/perm.tsv"
[ "$(id -u)" = 0 ] && chown 4321:4322 "$T/perm.tsv"
expect_status 0 "$GF" classify -q -m "$M" -o "$T/perm.tsv" "$IN"
[ "$(stat -c %a "$T/perm.tsv")" = 600 ] || fail "mode after rewrite: $(stat -c %a "$T/perm.tsv")"
[ "$(id -u)" != 0 ] || [ "$(stat -c %u:%g "$T/perm.tsv")" = 4321:4322 ] || fail "owner after rewrite: $(stat -c %u:%g "$T/perm.tsv")"

# a name of 255 bytes (NAME_MAX) is written, no temporary is left
long=$(printf 'n%.0s' $(seq 251)).tsv
expect_status 0 "$GF" classify -q -m "$M" -o "$T/$long" "$IN"
cmp -s "$T/$long" "$T/from_fifo" || fail "the 255-byte name did not get the table"

# a .npy needs to seek: a pipe is refused before any work, as are derived
# ids beside a device
expect_error 1 "[embed] error: standard output: a .npy matrix needs a file it can seek in (not a pipe, FIFO or terminal)" \
	bash -c 'set -o pipefail; "$GF" embed -q -m "$1" --ids "$2/i.tsv" -o - "$3" | cat' _ "$M" "$T" "$IN"
expect_error 1 "[embed] error: $T/fifo is not a regular file: name the table of row ids with --ids FILE" \
	"$GF" embed -q -m "$M" -o "$T/fifo" "$IN"

# killed while writing: no temporary (.NAME.tmp.PID.XXXXXX) is left
mkfifo "$T/slow"
("$GF" classify -q -m "$M" -o "$T/killed.tsv" "$T/slow" & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid) &
exec 3>"$T/slow"; printf '>a\nACGT\n' >&3; wait $!; exec 3>&-
ls -a "$T" | grep -q '\.tmp\.' && fail "a temporary was left: $(ls -a "$T" | grep '\.tmp\.')"
[ ! -e "$T/killed.tsv" ] || fail "a killed run left its output"
echo "ok"
