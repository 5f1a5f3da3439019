#!/usr/bin/env bash
# Runs the bench guest's ALU/%fs workload (work=alu) on this emulator (functional
# and cycle timing), on QEMU (TCG, and TCG with -icount shift=0) and on Bochs,
# with the same guest instruction count everywhere, and prints guest MIPS and
# the ratios this emulator / each other machine.
#
#   [BENCH_REPEAT=R] tools/bench-side-by-side.sh [ITERATIONS]  (defaults 1, 50000000)
#
# Every machine runs the workload twice, ITERATIONS and ITERATIONS/5 times,
# each run a fresh process timed from outside (bash `time`: wall, user, sys).
# MIPS = (difference in region instructions) / (difference in time), so each
# machine's start-up (runtime, JIT, firmware, boot) cancels out. With
# BENCH_REPEAT=R there are R rounds, each running every machine in turn, and
# each run's least time is kept. Two figures:
# by wall time, and by CPU time (user+sys), which a busy shared host disturbs
# less. The emulator's in-process region MIPS (`bench`: host time between the
# guest's two marker writes; the best big run) is printed beside them.
#
# The guests: this emulator and QEMU boot guest-images/build/bench.elf as a
# Multiboot kernel (`-kernel`); Bochs boots only from a disk, so it runs
# guest-images/build/bench-boot.img, a boot sector that loads the same ELF file
# (command line in the image's sector 1, rewritten here for each run). Every
# run's result line is checked: check=ok, and region_instructions (the guest's
# own count: 8 per iteration + 2) equal to the expected count; the emulator also
# counts the region at the markers itself, and `bench` fails unless the two agree.
#
# Installs qemu-system-x86 and bochs (bochs, bochsbios, vgabios) with apt-get
# when missing. Bochs runs headless with its VNC display library ('rfb', not
# waiting for a client: Debian's build has no 'nogui'), inside a private network
# namespace (`unshare -rn`) when the host allows one, so its listening socket
# is nobody's business. Its sound drivers are the dummy ones: on a host without a
# sound card, Debian's Bochs 2.7 aborts (a libc buffer-overflow check) after
# ALSA fails to open, even with the speaker disabled. Debian's Bochs has its internal debugger compiled in; a
# command file makes it continue at once. The guest ends a Bochs run through
# Bochs's shutdown port (0x8900).
#
# Exit status: 0 when every run passed its checks, 1 when one failed, 2 on a
# bad argument.
set -euo pipefail
# A failing run inside $(...) must stop the script too.
shopt -s inherit_errexit

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
elf=$repo_root/guest-images/build/bench.elf
disk=$repo_root/guest-images/build/bench-boot.img
n_big=${1:-50000000}
if ! [[ $n_big =~ ^[0-9]+$ ]] || [ "$n_big" -lt 5 ] || [ "$n_big" -gt 500000000 ]; then
    echo "bench-side-by-side: ITERATIONS must be a whole number from 5 to 500000000" >&2
    exit 2
fi
n_small=$((n_big / 5))
repeat=${BENCH_REPEAT:-1}
if ! [[ $repeat =~ ^[1-9][0-9]?$ ]]; then
    echo "bench-side-by-side: BENCH_REPEAT must be a whole number from 1 to 99" >&2
    exit 2
fi

fail() {
    echo "bench-side-by-side: $*" >&2
    exit 1
}

# --- Packages ---------------------------------------------------------------
bochs_bin=$(command -v bochs-bin || command -v bochs || true)
bios=/usr/share/bochs/BIOS-bochs-latest
vgabios=/usr/share/bochs/VGABIOS-lgpl-latest
missing=()
command -v qemu-system-i386 >/dev/null 2>&1 || missing+=(qemu-system-x86)
[ -n "$bochs_bin" ] || missing+=(bochs)
[ -f "$bios" ] || missing+=(bochsbios)
[ -e "$vgabios" ] || missing+=(vgabios)
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench-side-by-side: installing ${missing[*]}" >&2
    SUDO=()
    [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    bochs_bin=$(command -v bochs-bin || command -v bochs || true)
    [ -n "$bochs_bin" ] && [ -f "$bios" ] && [ -e "$vgabios" ] || fail "Bochs still missing after apt-get"
fi
[ -f "$elf" ] && [ -f "$disk" ] || fail "guest images missing: run tools/build-guests.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- Timing and checks --------------------------------------------------------
TIMEFORMAT='%R %U %S'

# timed OUT CMD... : runs CMD (stdout and stderr to OUT, no stdin); sets
# t_status, t_wall and t_cpu (user + sys) in seconds.
timed() {
    local out=$1
    shift
    local user sys
    t_status=0
    { time "$@" >"$out" 2>&1 </dev/null; } 2>"$work/time" || t_status=$?
    read -r t_wall user sys <"$work/time"
    t_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
}

# check_guest WHAT ITERS FILE: the guest's result line in FILE must say check=ok
# with the expected region count; prints that count.
check_guest() {
    local what=$1 iters=$2 file=$3 expected line region
    expected=$((8 * iters + 2))
    line=$(grep -a -m1 '^bench: work=alu' "$file" || true)
    region=$(sed -n 's/.*region_instructions=\([0-9]*\).*/\1/p' <<<"$line")
    if [ -z "$line" ] || ! grep -q 'check=ok' <<<"$line" || [ "$region" != "$expected" ]; then
        echo "bench-side-by-side: $what, iters=$iters: no result line with check=ok and region_instructions=$expected" >&2
        sed -n '1,40p' "$file" >&2
        exit 1
    fi
    echo "$region"
}

# Each *_run ITERS prints "region wall cpu".
emu_timing=functional
emu_run() {
    local iters=$1 out=$work/emu.json region
    timed "$out" dotnet "$repo_root/Emulator/bin/Release/net10.0/Emulator.dll" bench --workload alu \
        --timing "$emu_timing" --iterations "$iters" --json
    [ "$t_status" -eq 0 ] && grep -q '"ok": true' "$out" || {
        sed -n '1,40p' "$out" >&2
        fail "emulator ($emu_timing) run failed (status $t_status)"
    }
    region=$(sed -n 's/.*"region_instructions": \([0-9]*\).*/\1/p' "$out" | sed -n 1p)
    [ "$region" = "$((8 * iters + 2))" ] || fail "emulator ($emu_timing): region_instructions=$region, expected $((8 * iters + 2))"
    # The guest's own count, as on the other machines.
    grep -q "\"guest_region_instructions\": $region," "$out" || fail "emulator ($emu_timing): the guest's count differs"
    sed -n 's/.*"runtime": "\([^"]*\)".*/\1/p' "$out" >"$work/runtime"
    # The in-process figure of the last (big) run, kept for the report.
    sed -n 's/.*"region_mips": \([0-9.]*\).*/\1/p' "$out" | sed -n 1p >"$work/region_mips.$emu_timing"
    echo "$region $t_wall $t_cpu"
}

qemu_args=()
qemu_run() {
    local iters=$1 out=$work/qemu.out region
    timed "$out" timeout 900 qemu-system-i386 -m 128 -kernel "$elf" -append "work=alu iters=$iters" \
        -serial stdio -display none -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -no-reboot "${qemu_args[@]}"
    [ "$t_status" -eq 1 ] || { sed -n '1,40p' "$out" >&2; fail "QEMU ${qemu_args[*]} exited with status $t_status (1 = guest wrote 0 to port 0xF4)"; }
    region=$(check_guest "QEMU ${qemu_args[*]}" "$iters" "$out")
    echo "$region $t_wall $t_cpu"
}

netns=()
unshare -rn true 2>/dev/null && netns=(unshare -rn)
bochs_rc=()
# A Bochs with its internal debugger stops at a prompt before the first
# instruction; "c" continues (the guest's shutdown ends the run).
bochs_help=$("$bochs_bin" --help 2>&1 || true)
if grep -q -- '-rc filename' <<<"$bochs_help"; then
    echo c >"$work/bochs.rc"
    bochs_rc=(-rc "$work/bochs.rc")
fi
bochs_run() {
    local iters=$1 cmdline region
    cmdline="work=alu iters=$iters"
    cp "$disk" "$work/bochs.img"
    # Sector 1 of the image is the command line, NUL-terminated.
    { printf '%s' "$cmdline"; head -c $((512 - ${#cmdline})) /dev/zero; } |
        dd of="$work/bochs.img" bs=512 seek=1 count=1 iflag=fullblock conv=notrunc status=none
    rm -f "$work/com1.txt"
    cat >"$work/bochsrc" <<EOF
megs: 128
cpu: model=p2_klamath, count=1, ips=100000000, reset_on_triple_fault=0
romimage: file=$bios
vgaromimage: file=$vgabios
ata0-master: type=disk, path=$work/bochs.img, mode=flat
boot: disk
com1: enabled=1, mode=file, dev=$work/com1.txt
clock: sync=none, time0=1
display_library: rfb, options="timeout=0"
mouse: enabled=0
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
EOF
    timed "$work/bochs.out" timeout 900 "${netns[@]}" "$bochs_bin" -q -f "$work/bochsrc" "${bochs_rc[@]}"
    # Bochs ends through its shutdown port with a fatal "panic" (status 1):
    # the guest's result line is what counts.
    [ -f "$work/com1.txt" ] || { cat "$work/bochs.out" "$work/bochs.log" >&2; fail "Bochs wrote no serial output (status $t_status)"; }
    grep -q 'Shutdown port: shutdown requested' "$work/bochs.log" "$work/bochs.out" ||
        { tail -20 "$work/bochs.log" >&2; fail "Bochs did not end through the guest's shutdown (status $t_status)"; }
    region=$(check_guest Bochs "$iters" "$work/com1.txt")
    echo "$region $t_wall $t_cpu"
}

# The machines, each a run function taking ITERS.
emu_functional() {
    emu_timing=functional
    emu_run "$1"
}
emu_cycle() {
    emu_timing=cycle
    emu_run "$1"
}
qemu_tcg() {
    qemu_args=(-accel tcg)
    qemu_run "$1"
}
qemu_icount() {
    qemu_args=(-accel tcg -icount shift=0)
    qemu_run "$1"
}
machines=(emu_functional emu_cycle qemu_tcg qemu_icount bochs_run)

# Least wall and CPU time per machine and size over the rounds (noise only
# ever adds time), and each size's region count.
declare -A best_wall best_cpu regions
least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
sample() {
    local fn=$1 iters=$2 x r w c
    x=$("$fn" "$iters")
    read -r r w c <<<"$x"
    regions[$iters]=$r
    best_wall[$fn.$iters]=$(least "${best_wall[$fn.$iters]:-}" "$w")
    best_cpu[$fn.$iters]=$(least "${best_cpu[$fn.$iters]:-}" "$c")
}
# mips FN -> "wall_mips cpu_mips" from the two sizes' least times.
mips() {
    awk -v d="$((regions[$n_big] - regions[$n_small]))" \
        -v ws="${best_wall[$1.$n_small]}" -v wb="${best_wall[$1.$n_big]}" \
        -v cs="${best_cpu[$1.$n_small]}" -v cb="${best_cpu[$1.$n_big]}" \
        'BEGIN { printf "%.1f %.1f", d / (wb - ws) / 1e6, d / (cb - cs) / 1e6 }'
}

# --- Runs ---------------------------------------------------------------------
echo "building the emulator (Release)..." >&2
dotnet build -c Release "$repo_root/Emulator" -v q -nologo >/dev/null

# Round after round, every machine in turn, so that a change in the host's load
# falls on all of them alike.
emu_f_region=0
emu_c_region=0
for ((round = 1; round <= repeat; round++)); do
    for m in "${machines[@]}"; do
        echo "round $round of $repeat: $m..." >&2
        sample "$m" "$n_small"
        sample "$m" "$n_big"
        case $m in
        emu_functional) emu_f_region=$(awk -v a="$emu_f_region" -v b="$(cat "$work/region_mips.functional")" 'BEGIN { print (b > a) ? b : a }') ;;
        emu_cycle) emu_c_region=$(awk -v a="$emu_c_region" -v b="$(cat "$work/region_mips.cycle")" 'BEGIN { print (b > a) ? b : a }') ;;
        esac
    done
done
read -r emu_f_wall emu_f_cpu <<<"$(mips emu_functional)"
read -r emu_c_wall emu_c_cpu <<<"$(mips emu_cycle)"
read -r tcg_wall tcg_cpu <<<"$(mips qemu_tcg)"
read -r icount_wall icount_cpu <<<"$(mips qemu_icount)"
read -r bochs_wall bochs_cpu <<<"$(mips bochs_run)"

# --- Report -------------------------------------------------------------------
bochs_version=$(sed -n 's/.*\(Bochs x86 Emulator [0-9.]*\).*/\1/p' <<<"$bochs_help" | sed -n 1p)
bochs_pkg=$(dpkg-query -W -f '${Version}' bochs 2>/dev/null || true)
printf 'host: %s, %s processors, load average %s; %s\n' \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(cat "$work/runtime")"
printf 'other machines: %s; %s%s\n' "$(qemu-system-i386 --version | sed -n 1p)" "$bochs_version" \
    "${bochs_pkg:+ (Debian $bochs_pkg)}"
printf 'workload: work=alu, %s and %s iterations: %s and %s guest instructions in the measured region\n' \
    "$n_small" "$n_big" "$((8 * n_small + 2))" "$((8 * n_big + 2))"
printf '          on every machine (the guest'"'"'s own count, checked); MIPS = difference / difference in time;\n          least time of %s round(s)\n' "$repeat"
printf '%-28s %10s %10s %12s\n' "machine" "wall MIPS" "CPU MIPS" "region MIPS"
printf '%-28s %10s %10s %12.1f\n' "this emulator (functional)" "$emu_f_wall" "$emu_f_cpu" "$emu_f_region"
printf '%-28s %10s %10s %12.1f\n' "this emulator (cycle)" "$emu_c_wall" "$emu_c_cpu" "$emu_c_region"
printf '%-28s %10s %10s %12s\n' "QEMU TCG" "$tcg_wall" "$tcg_cpu" "-"
printf '%-28s %10s %10s %12s\n' "QEMU TCG -icount shift=0" "$icount_wall" "$icount_cpu" "-"
printf '%-28s %10s %10s %12s\n' "Bochs" "$bochs_wall" "$bochs_cpu" "-"
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
printf '%-28s %22s %22s\n' "this emulator / machine" "functional: wall (CPU)" "cycle: wall (CPU)"
for m in tcg icount bochs; do
    case $m in
    tcg) name="QEMU TCG" ;;
    icount) name="QEMU TCG -icount shift=0" ;;
    bochs) name="Bochs" ;;
    esac
    w=${m}_wall c=${m}_cpu
    printf '%-28s %22s %22s\n' "$name" \
        "$(ratio "$emu_f_wall" "${!w}") ($(ratio "$emu_f_cpu" "${!c}"))" \
        "$(ratio "$emu_c_wall" "${!w}") ($(ratio "$emu_c_cpu" "${!c}"))"
done
target() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "met" : "not met" }'; }
f_ratio=$(ratio "$emu_f_cpu" "$bochs_cpu")
c_ratio=$(ratio "$emu_c_cpu" "$bochs_cpu")
printf '\ntargets (CPU time): functional >= 5 x Bochs: %s (%s x); cycle >= 2 x Bochs: %s (%s x)\n' \
    "$(target "$f_ratio" 5)" "$f_ratio" "$(target "$c_ratio" 2)" "$c_ratio"
