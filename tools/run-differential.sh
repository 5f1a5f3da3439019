#!/usr/bin/env bash
# Long differential campaign: every instruction form of the oracle catalog runs natively on
# the host CPU and in the emulator, and results and defined flags are compared
# (Emulator.Tests/Oracle, docs/testing.md).
#
#   tools/run-differential.sh [CASES_PER_FORM] [SEED]
#
# CASES_PER_FORM defaults to 20000 (about 12 million cases, a few minutes), SEED to the
# current time. Needs an x86-64 Linux host; elsewhere the tests report themselves skipped.
# Mismatches are listed in the test failure message with the inputs that produced them;
# re-run with the same SEED to reproduce.
set -euo pipefail
cd "$(dirname "$0")/.."

export ORACLE_CASES=${1:-${ORACLE_CASES:-20000}}
export ORACLE_SEED=${2:-${ORACLE_SEED:-$(date +%s)}}
echo "differential campaign: ${ORACLE_CASES} cases per form, seed ${ORACLE_SEED}"
exec dotnet test Emulator.Tests -c Release \
    --filter "FullyQualifiedName~Emulator.Tests.Oracle.DifferentialTests" \
    --logger "console;verbosity=detailed"
