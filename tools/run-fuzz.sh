#!/usr/bin/env bash
# Long fuzzing campaign: random byte programs in real mode, ring 0 and ring 3 (with and
# without paging), on a 2-CPU machine, in functional and cycle timing, and on a 3-CPU machine
# whose CPUs run different programs on the same memory (Emulator.Tests/Oracle/*FuzzTests.cs,
# docs/testing.md).
#
#   tools/run-fuzz.sh [PROGRAMS_PER_ENVIRONMENT] [SEED] [BYTES_PER_PROGRAM]
#
# Defaults: 100000 programs, seed from the clock, 64 bytes. Failing cases are printed in the
# test failure message and appended to fuzz-failures/fuzz-failures.txt (FUZZ_SAVE_DIR
# overrides the directory) as corpus lines; the script then replays that file
# (FuzzRegressions with FUZZ_REPLAY) to show that each saved case reproduces. Add the lines to
# Emulator.Tests/Oracle/fuzz-corpus.txt to keep them as regression tests.
set -euo pipefail
cd "$(dirname "$0")/.."

export FUZZ_PROGRAMS=${1:-${FUZZ_PROGRAMS:-100000}}
export FUZZ_SEED=${2:-${FUZZ_SEED:-$(date +%s)}}
export FUZZ_BYTES=${3:-${FUZZ_BYTES:-64}}
export FUZZ_SAVE_DIR=${FUZZ_SAVE_DIR:-$PWD/fuzz-failures}
echo "fuzz campaign: ${FUZZ_PROGRAMS} programs x ${FUZZ_BYTES} bytes per environment, seed ${FUZZ_SEED}"
status=0
dotnet test Emulator.Tests -c Release \
    --filter "FullyQualifiedName~Emulator.Tests.Oracle.FuzzTests|FullyQualifiedName~Emulator.Tests.Oracle.CycleFuzzTests|FullyQualifiedName~Emulator.Tests.Oracle.SharedMemoryFuzzTests" \
    --logger "console;verbosity=detailed" || status=$?
if [ -s "$FUZZ_SAVE_DIR/fuzz-failures.txt" ]; then
    echo "failing cases saved in $FUZZ_SAVE_DIR/fuzz-failures.txt; replaying them:"
    FUZZ_REPLAY="$FUZZ_SAVE_DIR/fuzz-failures.txt" dotnet test Emulator.Tests -c Release --no-build \
        --filter "FullyQualifiedName~Emulator.Tests.Oracle.FuzzRegressions.CorpusCaseEndsCleanly" || true
    echo "add the lines of $FUZZ_SAVE_DIR/fuzz-failures.txt to Emulator.Tests/Oracle/fuzz-corpus.txt once fixed"
fi
exit $status
