# Results do not depend on -t (issue 11): the same bytes from classify and
# embed, and the same tensors (every CRC) from a short training, with 1, 2
# and 3 threads. Work is split over threads by output rows, never by a
# reduction whose order would change with the thread count.
set -u
M=data/models/example.gfm
IN=data/examples/contigs.fa.gz
for t in 1 2 3; do
	"$GF" classify -q -t $t -m "$M" "$IN" >"$T/c$t.tsv" || fail "classify -t $t"
	"$GF" embed -q -t $t -m "$M" -o "$T/e$t.npy" "$IN" || fail "embed -t $t"
done
for t in 2 3; do
	cmp -s "$T/c1.tsv" "$T/c$t.tsv" || fail "classify -t $t differs from -t 1"
	cmp -s "$T/e1.npy" "$T/e$t.npy" || fail "embed -t $t differs from -t 1"
done
for t in 1 3; do
	"$GF" train -q -t $t -o "$T/m$t.gfm" --class a=data/samples/small.fa --class b=data/samples/small.fq -k 3 -L 64 \
		--layers 2 --d-model 16 --heads 2 --d-ff 32 --chunk 16 --steps 6 --batch 2 --val-every 1000 --seed 3 \
		data/samples/small.fa data/samples/small.fq || fail "train -t $t"
	"$GF" info --tensors "$T/m$t.gfm" | grep '^tensor' >"$T/t$t" || fail "info"
done
cmp -s "$T/t1" "$T/t3" || fail "training with -t 3 gives other tensors than -t 1: $(diff "$T/t1" "$T/t3" | head -4)"
echo ok
