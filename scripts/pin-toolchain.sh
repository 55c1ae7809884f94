#!/bin/sh
# The toolchain rust-toolchain.toml pins, made available before any cargo call (make and
# .ci/run run this first). Where rustup can reach its servers it installs the pin itself,
# with its components and targets, on first use. On a machine that cannot (these build
# machines: one toolchain, no downloads) but whose stable toolchain *is* the pinned
# version, the stable toolchain's directory is aliased under the pinned name — rustup's
# `toolchain link` refuses names that look like releases, and it is the same compiler.
set -eu
cd "$(dirname "$0")/.."
pin=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
home=${RUSTUP_HOME:-$HOME/.rustup}
host=$(RUSTUP_TOOLCHAIN=stable rustc -vV 2>/dev/null | sed -n 's/^host: //p' || true)
if [ -z "$host" ] || [ -e "$home/toolchains/$pin-$host" ]; then
    exit 0
fi
stable=$(RUSTUP_TOOLCHAIN=stable rustc --version | cut -d' ' -f2)
if [ "$stable" = "$pin" ]; then
    ln -s "$home/toolchains/stable-$host" "$home/toolchains/$pin-$host"
    echo "pin-toolchain: the machine's stable toolchain ($stable) serves the pin $pin" >&2
else
    echo "pin-toolchain: rust-toolchain.toml pins $pin, the machine's stable is $stable: rustup installs $pin on first use where it can download" >&2
fi
