#!/bin/sh
# Installs gdb (Debian/Ubuntu package) when /usr/bin/gdb is missing, for the tests in
# Emulator.Tests/Debugging/RealGdbTests.cs that drive the emulator's gdb stub with stock gdb.
set -eu
if [ -x /usr/bin/gdb ]; then
    /usr/bin/gdb --version | head -n 1
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends gdb
/usr/bin/gdb --version | head -n 1
