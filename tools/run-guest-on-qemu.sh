#!/usr/bin/env bash
# Runs a guest kernel image on real QEMU the way the emulator runs it:
#
#   tools/run-guest-on-qemu.sh IMAGE [ARGS...]
#
# IMAGE is passed to -kernel (Multiboot), ARGS are joined with spaces into the
# kernel command line (-append). The guest's serial output (COM1) goes to
# stdout. The guest ends by writing a value v to the isa-debug-exit port 0xF4,
# which makes QEMU exit with status (v << 1) | 1; this script exits with v
# (so 0 = all the guest's checks passed). If QEMU ends any other way, or runs
# longer than QEMU_TIMEOUT seconds (default 60), the script says so on stderr
# and exits 125 (124 on timeout).
#
# Environment: QEMU_MEM (MiB of RAM, default 128), QEMU_TIMEOUT (seconds),
# QEMU_SMP (passed to -smp when set, e.g. "4,sockets=4": SeaBIOS's MP table
# lists one CPU per socket, so give each CPU its own socket).
# Installs qemu-system-x86 with apt-get if qemu-system-i386 is missing.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 IMAGE [KERNEL ARGS...]" >&2
    exit 2
fi
image=$1
shift
cmdline="$*"

if [ ! -f "$image" ]; then
    echo "run-guest-on-qemu: no such image: $image" >&2
    exit 2
fi

if ! command -v qemu-system-i386 >/dev/null 2>&1; then
    echo "run-guest-on-qemu: qemu-system-i386 missing; installing qemu-system-x86" >&2
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    else
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
fi

smp_args=()
if [ -n "${QEMU_SMP:-}" ]; then
    smp_args=(-smp "$QEMU_SMP")
fi

status=0
timeout "${QEMU_TIMEOUT:-60}" qemu-system-i386 \
    -m "${QEMU_MEM:-128}" \
    -kernel "$image" \
    -append "$cmdline" \
    -serial stdio \
    -display none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -no-reboot \
    "${smp_args[@]}" \
    </dev/null || status=$?

if [ "$status" -eq 124 ]; then
    echo "run-guest-on-qemu: timed out after ${QEMU_TIMEOUT:-60} s" >&2
    exit 124
fi
if [ $((status % 2)) -eq 1 ]; then
    exit $((status >> 1))
fi
echo "run-guest-on-qemu: QEMU exited with status $status without the guest writing to port 0xF4" >&2
exit 125
