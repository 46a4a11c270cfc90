#!/bin/sh
# Builds the libFuzzer harnesses into tools/fuzz/.build (outside the package build; SwiftPM never
# sees these files). Usage: tools/fuzz/build.sh   (from the repository root or anywhere)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/.build"
mkdir -p "$out"
flags="-sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g -use-ld=lld"

# HTTP parser: HTTPCore's sources and the harness form one module, so internals are visible.
swiftc $flags -module-name HTTPFuzz \
    "$root"/Sources/HTTPCore/*.swift "$here"/HTTPFuzz/main.swift \
    -o "$out/fuzz-http"

# Frames: WebSocketCore imports HTTPCore (for the handshake), so HTTPCore is built as a module
# first (instrumented too), then WebSocketCore's sources and the harness form one module.
swiftc $flags -module-name HTTPCore -emit-module -emit-module-path "$out/HTTPCore.swiftmodule" \
    -emit-library -static -o "$out/libHTTPCore.a" "$root"/Sources/HTTPCore/*.swift
# WebSocketCore also imports CZlib (permessage-deflate): its module map and -lz.
swiftc $flags -module-name FrameFuzz -I "$out" -I "$root"/Sources/CZlib \
    "$root"/Sources/WebSocketCore/*.swift "$here"/FrameFuzz/main.swift \
    "$out/libHTTPCore.a" -lz \
    -o "$out/fuzz-frame"
# RESP replies (Redis): the module has no dependencies.
swiftc $flags -module-name RESPFuzz \
    "$root"/Sources/RESP/*.swift "$here"/RESPFuzz/main.swift \
    -o "$out/fuzz-resp"
echo "built $out/fuzz-http, $out/fuzz-frame and $out/fuzz-resp"
