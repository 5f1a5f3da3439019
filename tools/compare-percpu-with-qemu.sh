#!/usr/bin/env bash
# Runs the percpu guest on QEMU and on the emulator with the same number of
# CPUs and compares what they print:
#
#   tools/compare-percpu-with-qemu.sh [CPUS...] [-- KERNEL ARGS...]
#
# CPUS defaults to "1 2 4 8". For each N:
#   - QEMU runs guest-images/build/percpu.elf with -smp N,sockets=N
#     (tools/run-guest-on-qemu.sh; SeaBIOS's MP table lists one CPU per
#     socket, so every CPU gets its own);
#   - the emulator runs the same image with --cpus N
#     (dotnet run -c Release --project Emulator -- run ... --cpus N).
# Both get the kernel command line "guest-images/build/percpu.elf ARGS" (QEMU
# puts the kernel's path in front of -append itself; the emulator is given
# the same string with --cmdline).
#
# Before the comparison, lines that describe the platform rather than the
# kernel are dropped (the ACPI/MP table lines "ACPI: ", "mpparse: ",
# "MPTABLE: ", the RAM size "mem: " and "Command line: "), and every
# cycles=NNN becomes cycles=N. Everything else -- per-CPU offsets, GDT
# addresses, demo results -- must match exactly, and so must the exit status
# (the number of failures the guest wrote to port 0xF4).
#
# With PERCPU_REFERENCE=saved the reference is the committed QEMU transcript
# guest-images/percpu/expected-serial-smpN.txt (recorded without kernel
# arguments) instead of a fresh QEMU run.
#
# Environment: EMULATOR_TIMEOUT (seconds per run, default 600), QEMU_TIMEOUT.
# Exit status: 0 if every N matched, 1 if any differed or failed.
set -uo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
image=guest-images/build/percpu.elf

cpus=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then
        shift
        break
    fi
    cpus+=("$1")
    shift
done
[ ${#cpus[@]} -gt 0 ] || cpus=(1 2 4 8)
args="$*"

normalize() {
    sed -E -e '/^(ACPI|mpparse|MPTABLE|mem|Command line): /d' -e 's/cycles=[0-9]+/cycles=N/g'
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! dotnet build -c Release Emulator >"$work/build.log" 2>&1; then
    echo "compare-percpu: building the emulator failed:" >&2
    tail -20 "$work/build.log" >&2
    exit 1
fi

status=0
for n in "${cpus[@]}"; do
    ref="$work/qemu-$n.txt"
    if [ "${PERCPU_REFERENCE:-}" = saved ]; then
        cp "guest-images/percpu/expected-serial-smp$n.txt" "$ref" || { status=1; continue; }
        ref_rc=0
    else
        QEMU_SMP="$n,sockets=$n" "$repo_root/tools/run-guest-on-qemu.sh" "$image" $args >"$ref"
        ref_rc=$?
    fi

    emu="$work/emulator-$n.txt"
    timeout "${EMULATOR_TIMEOUT:-600}" dotnet run --no-build -c Release --project Emulator -- \
        run "$image" --cpus "$n" --cmdline "$image${args:+ $args}" >"$emu" 2>"$work/emulator-$n.err"
    emu_rc=$?
    # The guest's exit value v comes back as (v << 1) | 1; even statuses are the emulator's own.
    if [ $((emu_rc % 2)) -eq 1 ]; then
        emu_rc=$((emu_rc >> 1))
    else
        echo "compare-percpu: --cpus $n: the emulator stopped with status $emu_rc, not through port 0xF4:" >&2
        head -5 "$work/emulator-$n.err" >&2
        emu_rc="none (status $emu_rc)"
    fi

    if diff -u --label "qemu -smp $n" --label "emulator --cpus $n" \
        <(normalize <"$ref") <(normalize <"$emu") >"$work/diff-$n.txt" && [ "$ref_rc" = "$emu_rc" ]; then
        echo "compare-percpu: $n CPU(s): same output, exit value $emu_rc"
    else
        echo "compare-percpu: $n CPU(s): DIFFERENT (QEMU exit value $ref_rc, emulator $emu_rc)"
        cat "$work/diff-$n.txt"
        status=1
    fi
done
exit $status
