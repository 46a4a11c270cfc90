#!/bin/sh
# Builds the libFuzzer harnesses into Fuzz/.build (outside the package build; SwiftPM never sees
# these files). Usage: Fuzz/build.sh   (from the repository root or anywhere)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/Fuzz/.build"
mkdir -p "$out"
flags="-sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g -use-ld=lld"

# HTTP parser: HTTPCore's sources and the harness form one module, so internals are visible.
swiftc $flags -module-name HTTPFuzz \
    "$root"/Sources/HTTPCore/*.swift "$root"/Fuzz/HTTPFuzz/main.swift \
    -o "$out/fuzz-http"

# Frames: WebSocketCore imports HTTPCore (for the handshake), so HTTPCore is built as a module
# first (instrumented too), then WebSocketCore's sources and the harness form one module.
swiftc $flags -module-name HTTPCore -emit-module -emit-module-path "$out/HTTPCore.swiftmodule" \
    -emit-library -static -o "$out/libHTTPCore.a" "$root"/Sources/HTTPCore/*.swift
swiftc $flags -module-name FrameFuzz -I "$out" -I "$root/Sources/COpenSSL" \
    "$root"/Sources/WebSocketCore/*.swift "$root"/Fuzz/FrameFuzz/main.swift \
    "$out/libHTTPCore.a" -lssl -lcrypto \
    -o "$out/fuzz-frame"
echo "built $out/fuzz-http and $out/fuzz-frame"
