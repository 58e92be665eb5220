#!/usr/bin/env bash
# Throughput benchmark for mscan's scanners: builds mscan (Release), makes the inputs
# (bench/make_inputs.py, cached in bench/out/), scans each one RUNS times under /usr/bin/time -v
# and prints best wall time, throughput and peak RSS against the targets. Warm page cache: one
# untimed run precedes the timed ones. The `startup` input times start-up instead: a C++ hello
# world (compiled here with g++ -O2), `mscan --version` and a header-only scan of
# model.safetensors, STARTUP_RUNS times each (default 200).
#
#   bench/run.sh                 # build, make inputs, run, print the table
#   RUNS=10 bench/run.sh         # more timed runs per input (default 5)
#   bench/run.sh --no-build      # reuse build-bench/mscan as it is
#   MSCAN=build/mscan bench/run.sh --no-build   # benchmark another binary
#   bench/run.sh dense           # only some inputs: dense, objects, payload, small, torchzip,
#                                # joblibz, safetensors, kerash5, gguf, yaml, template, startup
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-5}
BUILD_DIR=${BUILD_DIR:-build-bench}
MSCAN=${MSCAN:-$BUILD_DIR/mscan}
OUT=bench/out
build=1
inputs=()
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        dense|objects|payload|small|torchzip|joblibz|safetensors|kerash5|gguf|yaml|template|startup) inputs+=("$arg") ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "run.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done
[[ ${#inputs[@]} -gt 0 ]] || inputs=(dense objects payload small torchzip joblibz safetensors kerash5 gguf yaml template startup)
STARTUP_RUNS=${STARTUP_RUNS:-200}
# `startup` is timed on its own (startup_bench below); it scans model.safetensors.
startup=0
files=()
for name in "${inputs[@]}"; do
    if [[ $name == startup ]]; then startup=1; else files+=("$name"); fi
done
make=("${files[@]}")
[[ $startup == 0 || " ${files[*]} " == *" safetensors "* ]] || make+=(safetensors)

# Debian's interpreter: its packages (python3-h5py) are the ones apt installs.
PYTHON=python3
[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3
if [[ " ${files[*]} " == *" kerash5 "* ]] && ! "$PYTHON" -c 'import h5py' 2>/dev/null; then
    echo "== installing h5py to write model.h5 (Debian package 'python3-h5py')" >&2
    apt-get install -y python3-h5py >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y python3-h5py >/dev/null; }
fi
if [[ ! -x /usr/bin/time ]]; then
    echo "== installing GNU time (Debian package 'time')" >&2
    apt-get install -y time >/dev/null || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi

if [[ $build == 1 ]]; then
    echo "== building mscan (Release) in $BUILD_DIR (log: $OUT/build.log)" >&2
    mkdir -p "$OUT"
    if ! { cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMSCAN_TESTS=OFF &&
           cmake --build "$BUILD_DIR" -j2; } >"$OUT/build.log" 2>&1; then
        tail -30 "$OUT/build.log" >&2
        echo "run.sh: build failed (full log: $OUT/build.log)" >&2
        exit 2
    fi
fi
[[ -x $MSCAN ]] || { echo "run.sh: no mscan binary at $MSCAN" >&2; exit 2; }

echo "== making inputs in $OUT" >&2
only=$(IFS=,; echo "${make[*]}")
"$PYTHON" bench/make_inputs.py --out "$OUT" --only "$only" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# bytes of a file, or the sum over a directory's files
input_bytes() {
    if [[ -d $1 ]]; then find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s}'
    else stat -c %s "$1"; fi
}

# run_one PATH -> prints "wall_seconds rss_kib exit_code cpu_seconds(user+sys)"
run_one() {
    local t0 t1 rc=0
    t0=$EPOCHREALTIME
    /usr/bin/time -v -o "$tmp/time" "$MSCAN" --format json -o /dev/null --fail-on never "$1" \
        2>"$tmp/stderr" || rc=$?
    t1=$EPOCHREALTIME
    local rss cpu
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s + 0}' "$tmp/time")
    echo "$t0 $t1 ${rss:-0} $rc $cpu" | awk '{printf "%.4f %d %d %.2f\n", $2 - $1, $3, $4, $5}'
}

# ms_stats FILE -> "best median mean" of the milliseconds in FILE, one a line
ms_stats() {
    sort -n "$1" | awk '{w[NR] = $1; s += $1}
        END {m = (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2;
             printf "%.2f %.2f %.2f\n", w[1], m, s / NR}'
}

# startup_bench: the wall time of a C++ hello world, `mscan --version` and a header-only scan
# (model.safetensors: mscan reads its header, never its 2 GiB of tensors), so that what mscan
# pays before reading anything is measured against the least a C++ program pays. With hyperfine
# (HYPERFINE, or on PATH) it times them; without, bash's EPOCHREALTIME around each run (no
# extra process per sample), the three run in turn each round so that machine load hits them
# alike. Prints best, median and mean in ms and checks `--version` against 2x hello world.
startup_bench() {
    local hello=$OUT/hello safetensors=$OUT/model.safetensors k r t0 t1
    printf '#include <iostream>\n\nint main() { std::cout << "hello, world\\n"; }\n' \
        >"$OUT/hello.cpp"
    g++ -O2 -o "$hello" "$OUT/hello.cpp"
    local -A cmd=(
        [hello]="$hello"
        [version]="$MSCAN --version"
        [header]="$MSCAN --format json -o /dev/null --fail-on never $safetensors"
    )
    local order=(hello version header)
    for k in "${order[@]}"; do  # each must work before it is timed
        ${cmd[$k]} >/dev/null || { echo "run.sh: startup: '${cmd[$k]}' failed" >&2; exit 2; }
    done
    local hyperfine=${HYPERFINE:-$(command -v hyperfine || true)} how
    if [[ -n $hyperfine ]]; then
        how="hyperfine -N, 10 warm-up runs"
        local args=()
        for k in "${order[@]}"; do args+=(-n "$k" "${cmd[$k]}"); done
        "$hyperfine" -N --style none --warmup 10 --runs "$STARTUP_RUNS" \
            --export-json "$tmp/hyperfine.json" "${args[@]}" >/dev/null
        "$PYTHON" -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    with open(sys.argv[2] + "/startup." + r["command"], "w") as f:
        f.writelines("%.4f\n" % (t * 1000) for t in r["times"])' "$tmp/hyperfine.json" "$tmp"
    else
        how="hyperfine not installed: bash EPOCHREALTIME around each run, the three in turn, 10 untimed rounds first"
        for k in "${order[@]}"; do : >"$tmp/startup.$k.raw"; done
        for ((r = -10; r < STARTUP_RUNS; r++)); do
            for k in "${order[@]}"; do
                t0=$EPOCHREALTIME
                ${cmd[$k]} >/dev/null 2>&1 || true
                t1=$EPOCHREALTIME
                if ((r >= 0)); then echo "$t0 $t1" >>"$tmp/startup.$k.raw"; fi
            done
        done
        for k in "${order[@]}"; do
            awk '{printf "%.4f\n", ($2 - $1) * 1000}' "$tmp/startup.$k.raw" >"$tmp/startup.$k"
        done
    fi
    local -A label=(
        [hello]="C++ hello world (g++ -O2)"
        [version]="mscan --version"
        [header]="mscan model.safetensors (header only)"
    )
    local base best median mean
    read -r _ base _ < <(ms_stats "$tmp/startup.hello")
    printf '\n%-40s %8s %9s %8s %9s %5s\n' "start-up (ms, $STARTUP_RUNS runs)" best median mean \
        "x hello" libs
    for k in "${order[@]}"; do
        read -r best median mean < <(ms_stats "$tmp/startup.$k")
        local program=${cmd[$k]%% *}
        printf '%-40s %8s %9s %8s %8.1fx %5d\n' "${label[$k]}" "$best" "$median" "$mean" \
            "$(awk -v a="$median" -v b="$base" 'BEGIN {print a / b}')" \
            "$(ldd "$program" | grep -c '=>\|ld-linux')"
    done
    read -r _ median _ < <(ms_stats "$tmp/startup.version")
    awk -v a="$median" -v b="$base" 'BEGIN {
        printf "target: mscan --version within 2x hello world (median): %s (%.1fx)\n",
               (a <= 2 * b) ? "PASS" : "MISS", a / b }'
    echo "timing: $how; libs = shared objects ldd lists (the loader maps them at start)"
}

if [[ ${#files[@]} -gt 0 ]]; then
printf '\n%-9s %10s %5s %8s %9s %6s %14s %10s  %s\n' input "size MB" exit "best s" \
    "median s" "cpu s" throughput "peak RSS" "targets (warm cache, best of $RUNS)"
for name in "${files[@]}"; do
    case $name in
        dense) path=$OUT/dense.pkl ;;
        objects) path=$OUT/objects.pkl ;;
        torchzip) path=$OUT/torchzip.pt ;;
        joblibz) path=$OUT/joblib.z ;;
        safetensors) path=$OUT/model.safetensors ;;
        kerash5) path=$OUT/model.h5 ;;
        gguf) path=$OUT/model.gguf ;;
        payload) path=$OUT/payload.pkl ;;
        small) path=$OUT/small ;;
        yaml) path=$OUT/model_config.yaml ;;
        template) path=$OUT/chat_template.jinja ;;
    esac
    bytes=$(input_bytes "$path")
    run_one "$path" >/dev/null  # warm-up (page cache), not timed
    : >"$tmp/runs"
    for ((r = 0; r < RUNS; r++)); do run_one "$path" >>"$tmp/runs"; done
    if [[ -s $tmp/stderr ]]; then
        echo "-- $name: mscan stderr (last run):" >&2
        head -5 "$tmp/stderr" >&2
    fi
    # best wall, median wall, max RSS over runs, worst exit code, CPU time of the best run
    read -r best median rss_kib rc cpu < <(sort -n "$tmp/runs" | awk '
        {w[NR] = $1; if ($2 > rss) rss = $2; if ($3 > rc) rc = $3; if (NR == 1) cpu = $4}
        END {m = (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2;
             printf "%s %s %d %d %s\n", w[1], m, rss, rc, cpu}')
    nfiles=$( [[ -d $path ]] && find "$path" -type f | wc -l || echo 1)
    awk -v name="$name" -v bytes="$bytes" -v best="$best" -v median="$median" \
        -v rss_kib="$rss_kib" -v rc="$rc" -v nfiles="$nfiles" -v cpu="$cpu" '
        function verdict(ok) { return ok ? "PASS" : "MISS" }
        BEGIN {
            mb = bytes / 1e6; rss = rss_kib * 1024 / 1e6; mbps = mb / best
            if (name == "dense") {
                tp = sprintf("%.0f MB/s", mbps)
                t = sprintf("%s >=300 MB/s; %s RSS < %.0f MB (half input)",
                            verdict(mbps >= 300), verdict(rss < mb / 2), mb / 2)
            } else if (name == "objects") {
                tp = sprintf("%.0f MB/s", mbps)
                t = sprintf("(no target: every opcode through the symbolic machine); %s RSS < %.0f MB",
                            verdict(rss < mb / 2), mb / 2)
            } else if (name == "torchzip") {
                tp = sprintf("%.0f GB/s", mbps / 1000)
                t = sprintf("%s < 50 ms; %s RSS < 32 MB", verdict(best < 0.05), verdict(rss < 32))
            } else if (name == "gguf") {
                tp = sprintf("%.0f GB/s", mbps / 1000)
                t = sprintf("%s < 20 ms; %s RSS < 48 MB (metadata ~7 MB)", verdict(best < 0.02),
                            verdict(rss < 48))
            } else if (name == "safetensors" || name == "kerash5") {
                tp = sprintf("%.0f GB/s", mbps / 1000)
                t = sprintf("%s < 20 ms; %s RSS < 32 MB", verdict(best < 0.02), verdict(rss < 32))
            } else if (name == "joblibz") {
                tp = sprintf("%.0f MB/s", mbps)
                t = sprintf("%s >=200 MB/s (compressed bytes); RSS %.0f MB (no target)",
                            verdict(mbps >= 200), rss)
            } else if (name == "yaml") {
                tp = sprintf("%.0f MB/s", mbps)
                t = sprintf("(no target: real configs are a few KB; parsed twice, detect + scan); %s RSS < 256 MB",
                            verdict(rss < 256))
            } else if (name == "template") {
                tp = sprintf("%.0f MB/s", mbps)
                t = sprintf("%s < 1 s for the 1 MiB cap; %s RSS < 64 MB", verdict(best < 1),
                            verdict(rss < 64))
            } else if (name == "payload") {
                tp = sprintf("%.2f GB/s", mbps / 1000)
                t = sprintf("%s >=5 GB/s; %s RSS < 64 MB", verdict(mbps >= 5000), verdict(rss < 64))
            } else {
                tp = sprintf("%.0f files/s", nfiles / best)
                t = sprintf("%s %d files < 0.5 s; %s RSS < 64 MB", verdict(best < 0.5), nfiles,
                            verdict(rss < 64))
            }
            if (rc != 0) t = "ERROR (exit " rc ", see stderr above) " t
            printf "%-9s %10.1f %5d %8.3f %9.3f %6.2f %14s %7.1f MB  %s\n",
                   name, mb, rc, best, median, cpu, tp, rss, t
        }'
done | tee "$tmp/table"
fi
[[ $startup == 0 ]] || startup_bench | tee -a "$tmp/table"
cp "$tmp/table" "$OUT/last-results.txt"
echo
echo "load average during the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" \
     "(wall times are only meaningful on an otherwise idle machine; cpu s = user+sys)"
echo "MB = 10^6 bytes. Wall time from bash EPOCHREALTIME around /usr/bin/time; peak RSS from its" \
     "'Maximum resident set size'. Table saved to $OUT/last-results.txt"
