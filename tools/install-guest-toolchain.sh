#!/usr/bin/env bash
# Makes sure the toolchain that builds the guest kernels in guest-images/ is
# present: gcc able to compile AND link 32-bit freestanding code against
# libgcc (gcc -m32 needs gcc-multilib for that), GNU ld and GNU make.
# Installs the missing Debian packages with apt-get; quiet when all is there.
set -euo pipefail

probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT

# A freestanding program whose 64-bit division pulls in __udivdi3 from libgcc.
cat >"$probe_dir/probe.c" <<'C'
volatile unsigned long long probe_a = 123456789012345ull, probe_b = 1000ull, probe_r;
void _start(void) { probe_r = probe_a / probe_b + probe_a % probe_b; for (;;) { } }
C

toolchain_ok() {
    command -v gcc >/dev/null 2>&1 || return 1
    command -v ld >/dev/null 2>&1 || return 1
    command -v make >/dev/null 2>&1 || return 1
    case "$(ld --version 2>/dev/null)" in "GNU ld"*) ;; *) return 1 ;; esac
    case "$(make --version 2>/dev/null)" in "GNU Make"*) ;; *) return 1 ;; esac
    gcc -m32 -ffreestanding -fno-pic -O2 -c "$probe_dir/probe.c" -o "$probe_dir/probe.o" >/dev/null 2>&1 || return 1
    local libgcc
    libgcc=$(gcc -m32 -print-libgcc-file-name 2>/dev/null) || return 1
    [ -f "$libgcc" ] || return 1
    ld -m elf_i386 -static -nostdlib -e _start -o "$probe_dir/probe.elf" \
        "$probe_dir/probe.o" "$libgcc" >/dev/null 2>&1 || return 1
}

if toolchain_ok; then
    exit 0
fi

echo "install-guest-toolchain: 32-bit gcc/libgcc, GNU ld or GNU make missing; installing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
else
    SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends gcc-multilib make binutils >/dev/null

if ! toolchain_ok; then
    echo "install-guest-toolchain: toolchain still unusable after installing packages" >&2
    exit 1
fi
echo "install-guest-toolchain: toolchain ready" >&2
