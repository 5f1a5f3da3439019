#!/usr/bin/env bash
# Runs the bench guest's ALU/%fs workload (guest-images/build/bench.elf, work=alu)
# on this emulator and on QEMU (TCG, and TCG with -icount shift=0), with the
# same guest instruction count, and prints guest MIPS and the ratios.
#
#   tools/bench-side-by-side.sh [ITERATIONS]      (default 50000000)
#
# Each QEMU figure comes from two runs, ITERATIONS and ITERATIONS/5: MIPS =
# (difference in region instructions) / (difference in wall seconds), so QEMU's
# start-up and firmware cancel out. The emulator's figure is the `bench`
# command's region MIPS (host time between the guest's two marker writes).
# Every run's guest result line is checked (check=ok) and the instruction
# counts are the guest's own: 8 per iteration + 2, identical on all of them.
#
# Bochs is not run: it boots only from a disk image, and the boot-sector build
# of the guest that it needs does not exist yet (see docs/performance.md).
#
# Installs qemu-system-x86 with apt-get if qemu-system-i386 is missing.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image=$repo_root/guest-images/build/bench.elf
n_big=${1:-50000000}
n_small=$((n_big / 5))

if ! command -v qemu-system-i386 >/dev/null 2>&1; then
    echo "bench-side-by-side: qemu-system-i386 missing; installing qemu-system-x86" >&2
    SUDO=()
    [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
fi

# qemu_run ITERS EXTRA_ARGS... -> prints "region_instructions seconds"
qemu_run() {
    local iters=$1
    shift
    local out start end status=0
    start=$(date +%s.%N)
    out=$(timeout 600 qemu-system-i386 -m 128 -kernel "$image" -append "work=alu iters=$iters" \
        -serial stdio -display none -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -no-reboot "$@" </dev/null) || status=$?
    end=$(date +%s.%N)
    if [ "$status" -ne 1 ] || ! grep -q "check=ok" <<<"$out"; then
        echo "bench-side-by-side: QEMU run failed (status $status): $out" >&2
        exit 1
    fi
    local region
    region=$(sed -n 's/.*region_instructions=\([0-9]*\).*/\1/p' <<<"$out")
    echo "$region $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f", b - a }')"
}

qemu_mips() {
    local a b
    a=$(qemu_run "$n_small" "$@")
    b=$(qemu_run "$n_big" "$@")
    echo "$a $b" | awk '{ printf "%.1f", ($3 - $1) / ($4 - $2) / 1e6 }'
}

echo "building the emulator (Release)..." >&2
dotnet build -c Release "$repo_root/Emulator" -v q -nologo >/dev/null
emu_json=$(dotnet "$repo_root/Emulator/bin/Release/net10.0/Emulator.dll" bench --workload alu \
    --timing functional --iterations "$n_big" --json)
grep -q '"ok": true' <<<"$emu_json" || { echo "bench-side-by-side: emulator run failed" >&2; exit 1; }
emu=$(sed -n 's/.*"region_mips": \([0-9.]*\).*/\1/p' <<<"$emu_json" | head -1)
emu_region=$(sed -n 's/.*"region_instructions": \([0-9]*\).*/\1/p' <<<"$emu_json" | head -1)

echo "running QEMU TCG..." >&2
tcg=$(qemu_mips -accel tcg)
echo "running QEMU TCG -icount shift=0..." >&2
icount=$(qemu_mips -accel tcg -icount shift=0)

printf 'host: %s, %s processors; %s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
    "$(nproc)" "$(qemu-system-i386 --version | head -1)"
printf 'workload: work=alu iters=%s (%s guest instructions in the measured region on every machine)\n' "$n_big" "$emu_region"
printf '%-28s %10s %14s\n' "machine" "MIPS" "emulator/it"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
printf '%-28s %10.1f %14s\n' "this emulator (functional)" "$emu" "1.000"
printf '%-28s %10s %14s\n' "QEMU TCG" "$tcg" "$(ratio "$emu" "$tcg")"
printf '%-28s %10s %14s\n' "QEMU TCG -icount shift=0" "$icount" "$(ratio "$emu" "$icount")"
printf '%-28s %10s %14s\n' "Bochs" "not run" "-"
