#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that read what a peer sends, with SharpFuzz and Debian's afl++.
# Not part of CI's default run: it takes minutes per target and needs afl++ installed.
#
#   fuzz/run.sh [seconds-per-target] [target...]
#
# Default: 180 s for every target, one target at a time (one afl-fuzz process, one core). Targets:
#   reply mlsd list pathguard rfc2228-lines rfc2228-blocks safetp-adat safetp-blocks kea-adat kea-blocks server-command
# Needs: afl++ (apt-get install afl++), the SharpFuzz instrumenter (dotnet tool install --global
# SharpFuzz.CommandLine --version 2.3.0; or set SHARPFUZZ to its path), the .NET SDK.
# Output: $FUZZ_WORK (default a new /tmp/secureftp-fuzz-*) holds afl's queue, crashes and hangs per target, and
# summary.tsv (target, seconds, execs, execs/s, corpus, crashes, hangs). Any crash: replay it with
#   dotnet $FUZZ_WORK/bin/SecureFtp.Fuzz.dll <target> <crash file>
# then copy it to tests/SecureFtp.Tests/Properties/FuzzRegressions/<target>/ (FuzzRegressionTests replays it) and fix.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-180}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(reply mlsd list pathguard rfc2228-lines rfc2228-blocks safetp-adat safetp-blocks kea-adat kea-blocks server-command)

command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 2; }
sharpfuzz=${SHARPFUZZ:-$(command -v sharpfuzz || echo "$HOME/.dotnet/tools/sharpfuzz")}
[ -x "$sharpfuzz" ] || { echo "sharpfuzz not found: dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 (or set SHARPFUZZ)" >&2; exit 2; }

work=${FUZZ_WORK:-$(mktemp -d /tmp/secureftp-fuzz-XXXXXX)}
mkdir -p "$work"
rm -rf "$work/bin"
echo "== building into $work/bin"
dotnet build "$root/fuzz/SecureFtp.Fuzz" -c Release -o "$work/bin" -v quiet -nologo
echo "== instrumenting SecureFtp.Engine.dll (only the module's code is traced, not the runtime or BouncyCastle)"
"$sharpfuzz" "$work/bin/SecureFtp.Engine.dll"

# dotnet itself is not afl-instrumented (SharpFuzz reports coverage from the managed code); no core dumps wanted.
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
export DOTNET_TieredPGO=0 DOTNET_gcServer=0
summary="$work/summary.tsv"
printf 'target\tseconds\texecs\texecs_per_sec\tcorpus\tcrashes\thangs\n' > "$summary"
for target in "${targets[@]}"; do
    echo "== $target: $seconds s"
    out="$work/out/$target"
    rm -rf "$out"; mkdir -p "$work/out"
    # -t: per-input timeout in ms (the first input pays for key generation in the ADAT targets); -m none: the CLR
    # reserves far more address space than afl's default limit.
    afl-fuzz -i "$root/fuzz/corpus/$target" -o "$out" -V "$seconds" -t 10000+ -m none -- \
        dotnet "$work/bin/SecureFtp.Fuzz.dll" "$target" > "$work/$target.log" 2>&1 || echo "   afl-fuzz exited $? (see $work/$target.log)"
    stats="$out/default/fuzzer_stats"
    if [ -f "$stats" ]; then
        get() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$stats"; }
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$(get run_time)" "$(get execs_done)" "$(get execs_per_sec)" \
            "$(get corpus_count)" "$(get saved_crashes)" "$(get saved_hangs)" >> "$summary"
    else
        printf '%s\t-\t-\t-\t-\t-\t-\n' "$target" >> "$summary"
    fi
done
echo "== summary ($summary)"
column -t -s $'\t' "$summary"
