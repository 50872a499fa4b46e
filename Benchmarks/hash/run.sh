#!/usr/bin/env bash
# mtrun hash against the usual file-hashing CLIs, page cache warm, in one run.
#
#   Benchmarks/hash/run.sh           full run (about 3-4 minutes on 2 cores)
#   Benchmarks/hash/run.sh QUICK     1 run per command (a smoke test)
#
# The last row, floor.c, is the floor for the 8 MiB files: OpenSSL SHA-256 on
# mmap-ed files, one thread per CPU, no ordering or output.
# Corpus: one 2 GiB file, 200 files of 8 MiB, 20,000 files of 4-64 KiB in
# nested directories (deterministic content, /work/shared/peers/cpp/mkcorpus.c).
# /tmp/peers-corpus is reused when complete; otherwise it is generated into
# $CORPUS (default /tmp/mtrun-hash-corpus, about 4.4 GB; check `df -h /tmp`).
# Before each command its subset is read once (cat) so the page cache is warm;
# hyperfine then takes 3 runs (2 in QUICK=1 for slow commands) and the median
# wall time gives MB/s = file bytes / seconds / 1e6. The per-core SHA-256 limit
# is `openssl speed -evp sha256 -bytes 1048576 -seconds 1`, median of 3.
# Environment: MTRUN=path (default: release build of this package),
# JOBS=2 (xargs -P, hashdeep -j; mtrun uses every CPU), SUBSETS="big medium small"
# (a subset of them leaves the other columns empty). On a shared machine run it
# under /work/scratch/quiet.sh, one subset at a time: the page cache of the
# 4.4 GB corpus is only warm right after the `cat`, since memory reclaim
# (DAMON, balloon) evicts cold file pages.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODE=${1:-FULL}
JOBS=${JOBS:-2}
CORPUS=${CORPUS:-/tmp/mtrun-hash-corpus}
SPEC="2048 20000 200 8 "

need() { command -v "$1" >/dev/null || { echo "installing $2" >&2; apt-get install -y "$2" >/dev/null; }; }
need hyperfine hyperfine; need hashdeep hashdeep; need rhash rhash; need openssl openssl; need gcc gcc

if [ -f /tmp/peers-corpus/.spec ] && grep -q "^$SPEC" /tmp/peers-corpus/.spec; then
  CORPUS=/tmp/peers-corpus
elif ! { [ -f "$CORPUS/.spec" ] && grep -q "^$SPEC" "$CORPUS/.spec"; }; then
  echo "creating corpus in $CORPUS (df: $(df -h --output=avail /tmp | tail -1))" >&2
  gcc -O2 -o /tmp/mtrun-mkcorpus /work/shared/peers/cpp/mkcorpus.c
  rm -rf "$CORPUS"
  /tmp/mtrun-mkcorpus "$CORPUS" 2048 20000 200 8
  sync
fi

# The floor (floor.c) needs OpenSSL's headers.
[ -f /usr/include/openssl/evp.h ] || { echo "installing libssl-dev" >&2; apt-get install -y libssl-dev >/dev/null; }
gcc -O2 -o /tmp/mtrun-hash-floor "$ROOT/Benchmarks/hash/floor.c" -lcrypto -lpthread

if [ -z "${MTRUN:-}" ]; then
  (cd "$ROOT" && swift build -c release --product mtrun >&2)
  MTRUN="$ROOT/.build/release/mtrun"
fi

RUNS=3; [ "$MODE" = QUICK ] && RUNS=1
OUT=$(mktemp -d /tmp/mtrun-hash-bench-XXXXXX)
trap 'rm -rf "$OUT"' EXIT

bytes() { find "$1" -type f -printf '%s\n' | awk '{s+=$1} END {print s}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Per-core SHA-256 limit (SHA-NI), MB/s.
LIMIT=$(for i in 1 2 3; do openssl speed -evp sha256 -bytes 1048576 -seconds 1 2>/dev/null | awk '/^sha256/ {sub("k","",$2); print $2*1000/1e6}'; done | median)

declare -A SIZE
for s in big medium small; do SIZE[$s]=$(bytes "$CORPUS/$s"); done

declare -a LABELS=(
  "mtrun hash -r (all CPUs)"
  "mtrun hash -r --jobs 1"
  "sha256sum (1 process)"
  "sha256sum, find | xargs -P$JOBS"
  "openssl dgst -sha256 (1 process)"
  "openssl dgst -sha256, find | xargs -0 -P$JOBS"
  "hashdeep -c sha256 -r -j$JOBS"
  "rhash --sha256 -r"
  "floor: mmap + OpenSSL SHA-256, 1 thread per CPU, no output (C, floor.c)"
)
cmd() { # label-index subset-dir files-per-batch
  local d=$2 n=$3
  case $1 in
    0) echo "$MTRUN hash -r $d" ;;
    1) echo "$MTRUN hash -r --jobs 1 $d" ;;
    2) echo "find $d -type f -print0 | xargs -0 sha256sum" ;;
    3) echo "find $d -type f -print0 | xargs -0 -P$JOBS -n $n sha256sum" ;;
    4) echo "find $d -type f -print0 | xargs -0 openssl dgst -sha256" ;;
    5) echo "find $d -type f -print0 | xargs -0 -P$JOBS -n $n openssl dgst -sha256" ;;
    6) echo "hashdeep -c sha256 -r -j$JOBS $d" ;;
    7) echo "rhash --sha256 -r $d" ;;
    8) echo "find $d -type f -print0 | /tmp/mtrun-hash-floor $(nproc) -" ;;
  esac
}

declare -A MBS
for s in ${SUBSETS:-big medium small}; do
  d="$CORPUS/$s"
  nfiles=$(find "$d" -type f | wc -l)
  per=$(( (nfiles + 7) / 8 ))
  for i in "${!LABELS[@]}"; do
    # xargs -P only differs from one process when there are several files.
    if [ "$s" = big ] && { [ "$i" = 3 ] || [ "$i" = 5 ]; }; then continue; fi
    # The floor maps every file: a floor for the 8 MiB files only.
    if [ "$s" != medium ] && [ "$i" = 8 ]; then continue; fi
    c=$(cmd "$i" "$d" "$per")
    find "$d" -type f -print0 | xargs -0 cat > /dev/null
    hyperfine --runs "$RUNS" --warmup 0 --style none --export-json "$OUT/h.json" "$c > /dev/null" >/dev/null 2>&1
    med=$(python3 -c "import json,sys; print(json.load(open('$OUT/h.json'))['results'][0]['median'])")
    MBS[$s,$i]=$(awk -v b="${SIZE[$s]}" -v t="$med" 'BEGIN {printf "%.0f", b/t/1e6}')
    echo "  $s: ${LABELS[$i]}: ${MBS[$s,$i]} MB/s" >&2
  done
done

ncpu=$(nproc)
echo
echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p' | head -1), $ncpu CPUs, mode $MODE, $RUNS runs per command (median)"
echo "openssl speed -evp sha256 (1 core, 1 MiB blocks): $LIMIT MB/s; $ncpu-core limit: $(awk -v l="$LIMIT" -v n="$ncpu" 'BEGIN {printf "%.0f", l*n}') MB/s"
echo
echo "| command | 1 x 2 GiB file (MB/s) | 200 x 8 MiB files (MB/s) | 20000 files 4-64 KiB (MB/s) |"
echo "|---|---|---|---|"
for i in "${!LABELS[@]}"; do
  echo "| ${LABELS[$i]} | ${MBS[big,$i]:-} | ${MBS[medium,$i]:-} | ${MBS[small,$i]:-} |"
done
ratio() { # a b -> a/b with two decimals, empty when either is missing
  if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ]; then awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; fi
}
best() { # fastest SHA-256 peer for a subset (rows 2..7)
  local m=0; for i in 2 3 4 5 6 7; do v=${MBS[$1,$i]:-0}; [ "$v" -gt "$m" ] && m=$v; done; if [ "$m" -gt 0 ]; then echo $m; fi
}
echo
echo "| ratio | 2 GiB file | 8 MiB files | small files |"
echo "|---|---|---|---|"
echo "| mtrun / fastest SHA-256 peer | $(ratio "${MBS[big,0]:-}" "$(best big)") | $(ratio "${MBS[medium,0]:-}" "$(best medium)") | $(ratio "${MBS[small,0]:-}" "$(best small)") |"
echo "| mtrun / floor (floor.c) |  | $(ratio "${MBS[medium,0]:-}" "${MBS[medium,8]:-}") |  |"
echo "| mtrun / openssl speed x CPUs used | $(ratio "${MBS[big,0]:-}" "$LIMIT") (1 core: one file cannot be split) | $(ratio "${MBS[medium,0]:-}" "$(awk -v l="$LIMIT" -v n="$ncpu" 'BEGIN{print l*n}')") | $(ratio "${MBS[small,0]:-}" "$(awk -v l="$LIMIT" -v n="$ncpu" 'BEGIN{print l*n}')") |"
