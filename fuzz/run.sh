#!/usr/bin/env bash
# Build the libFuzzer target for MeritJSON and MeritRPC and run it.
#
#   fuzz/run.sh                      # 60 seconds
#   FUZZ_SECONDS=600 fuzz/run.sh     # ten minutes
#   fuzz/run.sh -only_ascii=1        # extra arguments go to libFuzzer
#
# Builds into fuzz/build/ with swiftc (not SwiftPM, so it never touches .build), seeds fuzz/corpus/ from the
# request lines of Protocol/examples, a few hand-written inputs and fuzz/seeds/, and writes crashes as fuzz/crash-*.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=fuzz/build
corpus=fuzz/corpus
mkdir -p "$build" "$corpus"

flags=(
    -sanitize=fuzzer,address -O -g -parse-as-library -swift-version 6
    -enable-upcoming-feature ExistentialAny -use-ld=lld
)

# Each module is compiled to its own .swiftmodule and static library, as SwiftPM would, so that the target
# sees only their public interfaces.
compile_module() {
    local name=$1
    shift
    echo "fuzz: compiling $name" >&2
    swiftc "${flags[@]}" -module-name "$name" -I "$build" \
        -emit-module -emit-module-path "$build/$name.swiftmodule" \
        -emit-library -static -o "$build/lib$name.a" "$@"
}

# Compile a copy of the sources, so that an edit saved while the compiler runs cannot fail the build.
rm -rf "$build/src"
mkdir -p "$build/src"
cp -R Sources/MeritJSON Sources/MeritRPC "$build/src/"
compile_module MeritJSON "$build"/src/MeritJSON/*.swift
compile_module MeritRPC "$build"/src/MeritRPC/*.swift
echo "fuzz: linking $build/merit-fuzz" >&2
swiftc "${flags[@]}" -warnings-as-errors -module-name MeritFuzz -I "$build" fuzz/FuzzTarget.swift \
    "$build/libMeritRPC.a" "$build/libMeritJSON.a" -o "$build/merit-fuzz"

# Seeds: every request line (the odd lines) of the conformance transcripts, one file per line, and all of a
# transcript's requests as one multi-line input.
for transcript in Protocol/examples/*.jsonl; do
    name=$(basename "$transcript" .jsonl)
    awk -v prefix="$corpus/example-$name-" 'NR % 2 == 1 { print > (prefix NR); close(prefix NR) }' "$transcript"
    awk 'NR % 2 == 1' "$transcript" > "$corpus/example-$name-all"
done

seed() { printf '%b' "$2" > "$corpus/seed-$1"; }
repeat() { local out="" i; for ((i = 0; i < $2; i++)); do out+=$1; done; printf '%s' "$out"; }

seed batch '[{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":[1,2.5,-3e7]}},{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","id":"x","method":"fail"}]\n'
seed batch-exit '[{"jsonrpc":"2.0","id":1,"method":"echo"},{"jsonrpc":"2.0","method":"exit"},{"jsonrpc":"2.0","id":2,"method":"echo"}]\n{"jsonrpc":"2.0","id":3,"method":"echo"}\n'
seed mixed-crlf '\x05{"jsonrpc":"2.0","id":1,"method":"echo","params":[null,true,false]}\r\n\r\n  \n[]\n[1]\n{"jsonrpc":"2.0","id":2.5,"method":"fail"}\r\n{"jsonrpc":"2.0","id":3,"method":"echo"}'
seed deep-array "$(repeat '[' 520)$(repeat ']' 520)"
seed deep-object "$(repeat '{"a":' 300)1$(repeat '}' 300)"
seed deep-params "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":$(repeat '[' 100)$(repeat ']' 100)}\n"
seed long-string "\"$(repeat 'abcdefghij' 300)\""
seed long-line "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[\"$(repeat 'x' 400)\"]}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\"}\n"
seed escapes '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\\u00e9\\u2028\\u2029\\ud83d\\ude00\\uD834\\uDD1E"'
seed unicode '{"jsonrpc":"2.0","id":"\xc3\xa9\xe2\x80\xa8","method":"echo","params":{"k\xf0\x9f\x98\x80":"\xe2\x80\xa9\xef\xbf\xbf"}}\n'
seed invalid-utf8 '{"jsonrpc":"2.0","id":1,"method":"echo","params":["\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80"]}\n'
# The edges of RFC 3629's table: the valid first and last scalars of each row, then one invalid input per rule.
seed utf8-edges '["\xc2\x80\xdf\xbf","\xe0\xa0\x80\xe0\xbf\xbf","\xe1\x80\x80\xec\xbf\xbf","\xed\x80\x80\xed\x9f\xbf","\xee\x80\x80\xef\xbf\xbf","\xf0\x90\x80\x80\xf0\xbf\xbf\xbf","\xf1\x80\x80\x80\xf3\xbf\xbf\xbf","\xf4\x80\x80\x80\xf4\x8f\xbf\xbf"]'
utf8_invalid=('\xc1\xbf' '\xc2' '\xe0\x9f\xbf' '\xed\xa0\x80' '\xef\xbf' '\xf0\x8f\xbf\xbf' '\xf4\x90\x80\x80' '\xf5\x80\x80\x80' '\x80' '\xe1\x80\xc0')
for i in "${!utf8_invalid[@]}"; do seed "utf8-invalid-$i" "\"${utf8_invalid[$i]}\""; done
seed numbers '[0,-0,1.5e-300,-9223372036854775808,9223372036854775807,9223372036854775808,1e400,0.1,1E+2,123456789012345678901234567890]'
seed bad-escapes '["\\ud800","\\udc00x","\\u12G4","\\x"]'

if compgen -G "fuzz/seeds/*" > /dev/null; then
    cp fuzz/seeds/* "$corpus/"
fi

# The Swift runtime's own crash reporter would run before libFuzzer's and trip AddressSanitizer; leave crashes to
# libFuzzer, which writes the input to fuzz/crash-*.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
exec "$build/merit-fuzz" "$corpus" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -artifact_prefix=fuzz/ \
    -print_final_stats=1 -dict=fuzz/json-rpc.dict "$@"
