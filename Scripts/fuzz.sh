#!/usr/bin/env bash
# The fuzzing campaign (issue 15): builds libFuzzer harnesses for the PNG decoder, the JPEG
# decoder, the TFLite importer and the ONNX importer with AddressSanitizer (LeakSanitizer
# included), then runs each for a set time, keeping every crash, leak or timeout input.
#
# Usage: Scripts/fuzz.sh [--build-only] [--seconds N] [--runs N] [harness ...]
#   harness: png jpeg tflite onnx (default: all four)
#   --seconds N  wall-clock time per harness (default 600)
#   --runs N     stop a harness after N executions instead (libFuzzer's -runs)
#
# Needs: Swift's toolchain (swiftc, clang with its libFuzzer and ASan runtimes, both in
# /opt/swift here), libpng-dev, libjpeg-dev, zlib. Builds into .build-fuzz/ (git-ignored).
# Seeds: Fuzz/<harness>/corpus (committed, small); for tflite with FUZZ_WITH_MODELS=1 also the
# cached selfie models (Scripts/fetch-models.sh). The working corpus grows in .build-fuzz/corpus/<harness>;
# crashes, leaks and timeouts land in .build-fuzz/crashes/<harness>/ (libFuzzer's
# crash-/leak-/timeout- files). Each run's libFuzzer log is .build-fuzz/<harness>.log; the
# last "#N DONE cov: ... ft: ... exec/s" line is what Docs/Benchmarks.md records.
#
# An input that crashed and was fixed goes into Tests/*/Fixtures/Fuzz as a regression test
# run by `swift test`; CI runs those, not this campaign.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/.build-fuzz
seconds=600
runs=-1
build_only=0
harnesses=()
while (($#)); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --build-only) build_only=1; shift ;;
        png|jpeg|tflite|onnx) harnesses+=("$1"); shift ;;
        *) echo "fuzz: unknown argument $1" >&2; exit 64 ;;
    esac
done
((${#harnesses[@]})) || harnesses=(png jpeg tflite onnx)

swiftc=${SWIFTC:-$(command -v swiftc)}
clang=${CLANG:-$(dirname "$swiftc")/clang}
mkdir -p "$out/modules/CPNG" "$out/modules/CJPEG" "$out/modules/CMattingKernels" "$out/obj"

# Module maps for the C shims (SwiftPM makes these itself from include/).
for shim in CPNG CJPEG; do
    lower=$(echo "$shim" | tr '[:upper:]' '[:lower:]')
    printf 'module %s {\n    header "%s/Sources/%s/include/%s.h"\n    export *\n}\n' \
        "$shim" "$root" "$shim" "$lower" > "$out/modules/$shim/module.modulemap"
done
printf 'module CMattingKernels {\n    umbrella "%s/Sources/CMattingKernels/include"\n    export *\n}\n' \
    "$root" > "$out/modules/CMattingKernels/module.modulemap"

cflags=(-O1 -g -fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer $(pkg-config --cflags libpng16 libjpeg))
swiftflags=(-O -g -parse-as-library -swift-version 6 -package-name MattingKit -I "$out/modules" -I "$root/Sources/CLibPNG" -I "$root/Sources/CLibJPEG"
            -Xcc -I/usr/include/libpng16)

build_codec_objects() {
    [[ -f $out/obj/codecs.stamp ]] && [[ -z $(find Sources/CPNG Sources/CJPEG -newer "$out/obj/codecs.stamp") ]] && return
    for file in Sources/CPNG/*.c Sources/CJPEG/*.c; do
        "$clang" "${cflags[@]}" -I Sources/CPNG/include -I Sources/CJPEG/include -c "$file" \
            -o "$out/obj/$(basename "$file" .c).o"
    done
    touch "$out/obj/codecs.stamp"
}

build_threads() {
    # The C kernels and the thread pool (MattingThreads) that the image and engine modules
    # run on: ASan, no coverage.
    [[ -f $out/obj/threads.stamp ]] && [[ -z $(find Sources/MattingThreads Sources/CMattingKernels -newer "$out/obj/threads.stamp") ]] && return
    rm -f "$out"/obj/kernel-*.o
    for file in Sources/CMattingKernels/*.c; do
        "$clang" -O2 -g -fsanitize=address -fno-omit-frame-pointer -I Sources/CMattingKernels/include \
            -c "$file" -o "$out/obj/kernel-$(basename "$file" .c).o"
    done
    "$swiftc" "${swiftflags[@]}" -sanitize=address -wmo -module-name MattingThreads -emit-module \
        -emit-module-path "$out/modules/MattingThreads.swiftmodule" -emit-object -o "$out/obj/MattingThreads.o" \
        $(find Sources/MattingThreads -name '*.swift' | sort)
    touch "$out/obj/threads.stamp"
}

build_engine() {
    # The engine is a module of its own, with ASan but without coverage: the harnesses fuzz
    # the importers, which call into it to build graphs.
    build_threads
    [[ -f $out/obj/engine.stamp ]] && [[ -z $(find Sources/MattingEngine -newer "$out/obj/engine.stamp") ]] \
        && [[ $out/obj/engine.stamp -nt $out/obj/threads.stamp ]] && return
    "$swiftc" "${swiftflags[@]}" -sanitize=address -wmo -module-name MattingEngine -emit-module \
        -emit-module-path "$out/modules/MattingEngine.swiftmodule" -emit-object -o "$out/obj/MattingEngine.o" \
        $(find Sources/MattingEngine -name '*.swift' | sort)
    touch "$out/obj/engine.stamp"
}

build() {
    local name=$1
    case $name in
        png|jpeg)
            build_codec_objects
            build_threads
            "$swiftc" "${swiftflags[@]}" -sanitize=fuzzer,address -module-name "Fuzz$name" \
                $(find Sources/MattingImage -name '*.swift' | sort) "Fuzz/$name/Harness.swift" \
                "$out"/obj/cpng*.o "$out"/obj/cjpeg.o "$out/obj/MattingThreads.o" "$out"/obj/kernel-*.o \
                -lpng16 -ljpeg -lz -lpthread -o "$out/fuzz-$name" ;;
        tflite|onnx)
            build_engine
            "$swiftc" "${swiftflags[@]}" -sanitize=fuzzer,address -module-name "Fuzz$name" \
                $(find Sources/MattingImporters -name '*.swift' | sort) "Fuzz/$name/Harness.swift" \
                "$out/obj/MattingEngine.o" "$out/obj/MattingThreads.o" "$out"/obj/kernel-*.o -lpthread -o "$out/fuzz-$name" ;;
    esac
}

for name in "${harnesses[@]}"; do
    echo "fuzz: building $name (log: $out/build-$name.log)" >&2
    # The linker's warnings about ASan's local symbols are noise; the log keeps them.
    build "$name" > "$out/build-$name.log" 2>&1 || { cat "$out/build-$name.log" >&2; exit 1; }
done
((build_only)) && exit 0

status=0
for name in "${harnesses[@]}"; do
    corpus=$out/corpus/$name
    crashes=$out/crashes/$name
    mkdir -p "$corpus" "$crashes"
    cp -n Fuzz/"$name"/corpus/* "$corpus"/ 2>/dev/null || true
    if [[ $name == tflite && ${FUZZ_WITH_MODELS:-0} == 1 ]]; then
        # The 250 KB selfie models reach deep into the converter but run at ~150 exec/s
        # (against thousands for the small seeds): opt-in.
        models=${MATTINGKIT_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mattingkit/models}
        cp -n "$models"/*.tflite "$corpus"/ 2>/dev/null || true
    fi
    echo "fuzz: running $name for ${seconds}s (log: $out/$name.log)" >&2
    # -rss_limit_mb: ASan's own limit, so a runaway allocation is a finding, not an OOM kill.
    # -timeout: one input taking longer than this is a finding (a decoder must not stall).
    # detect_leaks=1: LeakSanitizer checks every input that libFuzzer suspects of leaking.
    if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$out/fuzz-$name" "$corpus" \
        -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
        -print_final_stats=1 -artifact_prefix="$crashes/" > "$out/$name.log" 2>&1; then
        echo "fuzz: $name FOUND A PROBLEM: see $out/$name.log and $crashes/" >&2
        status=1
    fi
    grep -E '^#[0-9]+ +DONE' "$out/$name.log" | tail -1 | sed "s/^/fuzz: $name: /" >&2 || true
    grep -E '^stat::' "$out/$name.log" | sed "s/^/fuzz: $name: /" >&2 || true
done
exit $status
