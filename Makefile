# genoformer: `make` (CPU), `make CUDA=1`, `make MPI=1`, `make asan=1`,
# `make check`, `make check-cuda`, `make CUDA=1 check-fatbin`, `make demo`, `make bench`.
# Sources are picked up by wildcard: a new module needs no edit here.

CC        ?= gcc
NVCC      ?= /usr/local/cuda/bin/nvcc
CUDA_HOME ?= /usr/local/cuda
PYREF     ?= /usr/bin/python3

HTS_CFLAGS := $(shell pkg-config --cflags htslib 2>/dev/null)
HTS_LIBS   := $(shell pkg-config --libs htslib 2>/dev/null || echo -lhts)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -lpthread)

OPT      ?= -O2
WARN     := -Wall -Wextra -Werror
CFLAGS   := -std=c11 $(OPT) -g $(WARN) -fopenmp -D_GNU_SOURCE -I. $(HTS_CFLAGS) -MMD -MP
LDLIBS   := $(HTS_LIBS) -lopenblas -ldnnl -lz -lm
LDFLAGS  := -fopenmp
BUILD    := build
BIN      := genoformer

# libFuzzer build for `make fuzz`: clang, ASan+UBSan, coverage for the fuzzer;
# warnings stay warnings (clang's set differs from gcc's).
ifeq ($(fuzz),1)
  BUILD   := build-fuzz
  CC      := clang
  CFLAGS  += -O1 -Wno-error -Wno-pass-failed -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
endif

ifeq ($(asan),1)
  BUILD   := build-asan
  BIN     := genoformer-asan
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
endif

CU_SRC :=
comma := ,
space := $(subst ,, )
ifeq ($(CUDA),1)
  BUILD   := $(BUILD)-cuda
  CFLAGS  += -DRF_CUDA
  CU_SRC  := $(wildcard model/cuda/*.cu)
  # Machine code for every generation in CUDA_ARCH (README, Supported GPUs) plus PTX of
  # the last, which newer GPUs compile at start-up. The default keeps the
  # Volta..Hopper targets this nvcc still has (CUDA 13 dropped sm_70).
  GF_ARCHS  := 70 75 80 86 89 90
  CUDA_ARCH ?= $(filter $(GF_ARCHS),$(patsubst sm_%,%,$(shell $(NVCC) --list-gpu-code 2>/dev/null)))
  CUDA_PTX  ?= $(lastword $(CUDA_ARCH))
  ARCH_LIST := $(subst $(space),$(comma),$(strip $(CUDA_ARCH)))
  NVFLAGS := -O2 -g -std=c++17 -I. -DRF_CUDA -MMD -MP --compiler-options -Wall,-Wextra,-fPIC --threads 0 \
             $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) \
             -gencode arch=compute_$(CUDA_PTX),code=compute_$(CUDA_PTX) -DGF_CUDA_ARCHS=\"$(ARCH_LIST)\" -DGF_CUDA_PTX=$(CUDA_PTX)
  LDLIBS  += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublasLt -lcublas -lcudart -lstdc++
endif

ifeq ($(MPI),1)
  BUILD   := $(BUILD)-mpi
  CFLAGS  += -DRF_MPI $(shell pkg-config --cflags ompi-c 2>/dev/null)
  LDLIBS  += $(shell pkg-config --libs ompi-c 2>/dev/null || echo -lmpi)
  MPI_DEPS := libopenmpi-dev openmpi-bin
endif

LIB_SRC  := $(wildcard genomics/*.c model/*.c model/cpu/*.c)
APP_SRC  := $(wildcard src/*.c src/cmd/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
CUDA_TEST_SRC := $(wildcard tests/cuda/test_*.c)
# Benchmark helpers (scripts/bench/*.c, and *.cu with CUDA=1), built by make
# so that CI compiles them; the scripts in scripts/bench run them.
BENCH_BIN := $(patsubst scripts/bench/%.c,$(BUILD)/bench/%,$(wildcard scripts/bench/*.c))
ifeq ($(CUDA),1)
  BENCH_BIN += $(patsubst scripts/bench/%.cu,$(BUILD)/bench/%,$(wildcard scripts/bench/*.cu))
endif

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(CU_SRC:%.cu=$(BUILD)/%.cu.o)
APP_OBJ  := $(APP_SRC:%.c=$(BUILD)/%.o)
# src/ and src/cmd/ modules other than main.c, linked into the test suites too
CLI_OBJ  := $(filter-out $(BUILD)/src/cmd/main.o,$(APP_OBJ))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
CUDA_TEST_BIN := $(CUDA_TEST_SRC:tests/cuda/%.c=$(BUILD)/tests/cuda/%)

.PHONY: install all tests bench-tools check check-unit reference-state check-reference-live check-cli check-cuda check-fatbin check-mpi test-hpc demo bench deps data clean fuzz fuzz-seeds check-fuzz
all: $(BIN)

# The binary's name does not say how it was built (CPU or CUDA): relink it
# whenever the flavour changes, whatever the timestamps say.
FLAVOUR := .flavour-$(subst /,_,$(BIN))
$(shell [ "$$(cat $(FLAVOUR) 2>/dev/null)" = "$(BUILD)" ] || echo $(BUILD) > $(FLAVOUR))

$(BIN): $(APP_OBJ) $(BUILD)/libgenoformer.a $(FLAVOUR)
	$(CC) $(LDFLAGS) -o $@ $(APP_OBJ) $(BUILD)/libgenoformer.a $(LDLIBS)

$(BUILD)/libgenoformer.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libgfcli.a: $(CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Objects are rebuilt when the targets change (make CUDA=1 CUDA_ARCH=80).
NVSTAMP := $(BUILD)/.nvflags
ifeq ($(CUDA),1)
$(shell mkdir -p $(BUILD); [ "$$(cat $(NVSTAMP) 2>/dev/null)" = "$(ARCH_LIST) ptx $(CUDA_PTX)" ] || echo "$(ARCH_LIST) ptx $(CUDA_PTX)" > $(NVSTAMP))
endif

$(BUILD)/%.cu.o: %.cu $(NVSTAMP)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libgfcli.a $(BUILD)/libgenoformer.a tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libgfcli.a $(BUILD)/libgenoformer.a $(LDFLAGS) $(LDLIBS) $(CHECK_LIBS)

tests: $(TEST_BIN)

bench-tools: $(BENCH_BIN)

$(BUILD)/bench/%: scripts/bench/%.c $(BUILD)/libgenoformer.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libgenoformer.a $(LDFLAGS) $(LDLIBS)

# The hybrid experiment's helper (scripts/bench/species-hybrid.sh) uses the
# engine in src/ too.
$(BUILD)/bench/kh_graft: scripts/bench/kh_graft.c $(BUILD)/libgfcli.a $(BUILD)/libgenoformer.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libgfcli.a $(BUILD)/libgenoformer.a $(LDFLAGS) $(LDLIBS)

# The I/O baseline links htslib and zlib only, as a plain htslib program would.
$(BUILD)/bench/readonly: LDLIBS := $(HTS_LIBS) -lz -lm

$(BUILD)/bench/%: scripts/bench/%.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -o $@ $< -L$(CUDA_HOME)/lib64 -lcublas

deps:
	@GF_EXTRA_DEPS="$(GF_EXTRA_DEPS) $(MPI_DEPS)" scripts/install-deps.sh test plot

data:
	@data/fetch-examples.sh

# Unit suites in this build; CK_DEFAULT_TIMEOUT is generous because the
# sanitizer build is several times slower.
check-unit: $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; CK_DEFAULT_TIMEOUT=600 OMP_NUM_THREADS=2 $$t; done

check-cli: $(BIN)
	@GF=./$(BIN) tests/cli/run.sh

# The whole test command: normal build, sanitizer build, CLI tests, and the
# CUDA parity suite when this machine has a GPU and nvcc.
check:
	@scripts/install-deps.sh test
	@data/fetch-examples.sh
	$(MAKE) check-unit bench-tools
	$(MAKE) asan=1 check-unit
	$(MAKE) asan=1 check-fuzz
	@if pkg-config --exists ompi-c; then $(MAKE) check-mpi; else \
	  echo "[check] no OpenMPI here: MPI tests skipped (install libopenmpi-dev openmpi-bin, or 'make MPI=1 deps')"; fi
	$(MAKE) check-cli
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
	  $(MAKE) check-cuda; else echo "[check] no GPU here: CUDA parity suite skipped (run 'make check-cuda' on a GPU machine)"; fi

# The MPI build as ./genoformer-mpi (tests/cli/t_mpi.sh uses it) and the
# dist suite on 2 ranks; as root mpirun needs --allow-run-as-root.
MPIRUN ?= mpirun --allow-run-as-root --oversubscribe
check-mpi:
	$(MAKE) MPI=1 BIN=genoformer-mpi genoformer-mpi build-mpi/tests/test_dist
	CK_FORK=no $(MPIRUN) -np 2 build-mpi/tests/test_dist

# A real single-node SLURM on localhost runs the sbatch scripts (root, Debian).
test-hpc:
	@GF_EXTRA_DEPS="slurmctld slurmd slurm-client munge" scripts/install-deps.sh test mpi
	$(MAKE) check-mpi
	tests/hpc/run.sh

# The reference's results as committed state (tests/reference/state/, a few
# hundred KB): tests/test_reference.c compares the C model with them and
# needs no Python. Run after changing the model's numerics or the cases;
# needs python3-torch. check-reference-live compares with PyTorch itself.
reference-state: $(BUILD)/tests/test_reference
	@mkdir -p tests/reference/state
	$(BUILD)/tests/test_reference --write-state tests/reference/state
	@du -sh tests/reference/state

check-reference-live: $(BUILD)/tests/test_reference
	CK_DEFAULT_TIMEOUT=600 $(BUILD)/tests/test_reference --live

check-cuda:
	$(MAKE) CUDA=1 $(CUDA_TEST_BIN:build/%=build-cuda/%)
	@set -e; for t in $(CUDA_TEST_BIN:build/%=build-cuda/%); do echo "== $$t"; CK_DEFAULT_TIMEOUT=600 $$t; done

# The CUDA binary holds machine code for every CUDA_ARCH and PTX for
# CUDA_PTX in each of its fat binaries (read from .nv_fatbin: no cuobjdump,
# no GPU); the second run checks that a missing target is noticed.
check-fatbin:
	$(MAKE) CUDA=1 $(BIN) build-cuda/tests/cuda/fatbin_archs
	build-cuda/tests/cuda/fatbin_archs --expect $(ARCH_LIST) --ptx $(CUDA_PTX) $(BIN)
	@! build-cuda/tests/cuda/fatbin_archs --expect $(ARCH_LIST),100 $(BIN) >/dev/null || \
	  { echo "[fatbin] a missing sm_100 went unnoticed"; exit 1; }

$(BUILD)/tests/cuda/fatbin_archs: tests/cuda/fatbin_archs.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) $(WARN) -o $@ $<

$(BUILD)/tests/cuda/%: tests/cuda/%.c $(BUILD)/libgenoformer.a tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libgenoformer.a $(LDFLAGS) $(LDLIBS) $(CHECK_LIBS)

# Fuzzing (docs/fuzzing.md): `make fuzz FUZZ_SECONDS=N` builds each
# tests/fuzz/fuzz_*.c harness with libFuzzer and runs it N seconds over its
# corpus; check-fuzz replays tests/fuzz/regressions/ through the same
# harnesses built with this build's compiler (part of `make check`).
FUZZ_SECONDS ?= 60
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LINK = $(BUILD)/libgfcli.a $(BUILD)/libgenoformer.a $(LDFLAGS) $(LDLIBS)

fuzz:
	@scripts/install-deps.sh test fuzz
	$(MAKE) fuzz=1 $(FUZZ_NAMES:%=build-fuzz/tests/fuzz/%)
	@tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

fuzz-seeds: $(BUILD)/tests/fuzz/seed_models
	$(BUILD)/tests/fuzz/seed_models tests/fuzz/corpus/fuzz_ckpt

check-fuzz: $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/replay_%)
	@tests/fuzz/regress.sh $(BUILD)

build-fuzz/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libgfcli.a $(BUILD)/libgenoformer.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LINK)

$(BUILD)/tests/fuzz/replay_%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(BUILD)/libgfcli.a $(BUILD)/libgenoformer.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_LINK)

$(BUILD)/tests/fuzz/seed_models: tests/fuzz/seed_models.c $(BUILD)/libgfcli.a $(BUILD)/libgenoformer.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(FUZZ_LINK)

demo:
	@scripts/install-deps.sh build
	@$(MAKE) --no-print-directory $(BIN)
	@scripts/demo.sh

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory $(BIN)
	@scripts/bench/run-all.sh

# make install PREFIX=/opt/genoformer (DESTDIR for packaging): the binary,
# the man page made from the -h texts (scripts/make-man.sh), and the
# cluster and plotting scripts under share/genoformer/scripts.
PREFIX ?= /usr/local
install: $(BIN)
	@mkdir -p $(BUILD)
	scripts/make-man.sh ./$(BIN) >$(BUILD)/genoformer.1
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/genoformer/scripts/slurm
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/genoformer
	install -m 644 $(BUILD)/genoformer.1 $(DESTDIR)$(PREFIX)/share/man/man1/genoformer.1
	install -m 755 scripts/plot-metrics $(DESTDIR)$(PREFIX)/share/genoformer/scripts/
	install -m 755 scripts/slurm/merge $(DESTDIR)$(PREFIX)/share/genoformer/scripts/slurm/
	install -m 644 scripts/slurm/*.sbatch $(DESTDIR)$(PREFIX)/share/genoformer/scripts/slurm/

clean:
	rm -rf build build-asan build-cuda build-mpi build-cuda-mpi build-sm* build-asan-cuda build-fuzz genoformer genoformer-asan genoformer-mpi

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
