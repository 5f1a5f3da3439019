#!/usr/bin/env bash
# Long fuzzing campaign: random byte programs in real mode, ring 0 and ring 3 (with and
# without paging) and on a 2-CPU machine (Emulator.Tests/Oracle/FuzzTests.cs,
# docs/testing.md).
#
#   tools/run-fuzz.sh [PROGRAMS_PER_ENVIRONMENT] [SEED] [BYTES_PER_PROGRAM]
#
# Defaults: 100000 programs, seed from the clock, 64 bytes. Failing programs are printed in
# the test failure message as InlineData lines ready to paste into
# Emulator.Tests/Oracle/FuzzRegressions.cs, and appended to
# fuzz-failures/fuzz-failures.txt (FUZZ_SAVE_DIR overrides the directory).
set -euo pipefail
cd "$(dirname "$0")/.."

export FUZZ_PROGRAMS=${1:-${FUZZ_PROGRAMS:-100000}}
export FUZZ_SEED=${2:-${FUZZ_SEED:-$(date +%s)}}
export FUZZ_BYTES=${3:-${FUZZ_BYTES:-64}}
export FUZZ_SAVE_DIR=${FUZZ_SAVE_DIR:-$PWD/fuzz-failures}
echo "fuzz campaign: ${FUZZ_PROGRAMS} programs x ${FUZZ_BYTES} bytes per environment, seed ${FUZZ_SEED}"
status=0
dotnet test Emulator.Tests -c Release \
    --filter "FullyQualifiedName~Emulator.Tests.Oracle.FuzzTests" \
    --logger "console;verbosity=detailed" || status=$?
if [ -s "$FUZZ_SAVE_DIR/fuzz-failures.txt" ]; then
    echo "failing programs saved in $FUZZ_SAVE_DIR/fuzz-failures.txt (paste into Emulator.Tests/Oracle/FuzzRegressions.cs)"
fi
exit $status
