#!/usr/bin/env bash
# SIP call throughput on this machine, three figures side by side:
#   1. SIPp uac -> SIPp uas on loopback (the reference: SIPp 3.6.1, calls/s);
#   2. SIPp uac -> `voicetwin serve uas --no-media` on loopback (our live driver, real
#      sockets, the same sans-IO stack as the simulator);
#   3. our in-memory call-flow benchmark: two sans-IO UAs driven in memory, the 7-message
#      INVITE..BYE flow (`cargo bench --bench sip -- calls`);
#   4. the same call between two live hosts over loopback sockets, both sides on one
#      thread, without and with RTP sockets per call (`cargo bench --bench live`).
#
# Usage: benches/sipp_vs_voicetwin.sh            (defaults below)
#        CALLS=20000 RATE=10000 LIMIT=50 benches/sipp_vs_voicetwin.sh
#        SKIP_CRITERION=1 benches/sipp_vs_voicetwin.sh   (only the SIPp runs)
#
# The uac offers calls at RATE but keeps at most LIMIT calls open (`-l`), so it runs at
# the rate the uas sustains instead of collapsing into retransmissions (open-loop overload
# on these 2-core machines collapses SIPp itself to ~600 calls/s). A run's calls/s is
# successful calls over the wall time of the uac run; SIPp's own cumulative "Call Rate" is
# printed beside it, and failed calls are reported.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CALLS="${CALLS:-20000}"
RATE="${RATE:-10000}"
LIMIT="${LIMIT:-50}"
TIMEOUT="${TIMEOUT:-120}"
WORK="$(mktemp -d)"
CHILDREN=()

cleanup() {
  for pid in "${CHILDREN[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v sipp >/dev/null || { echo "sipp is not installed (apt-get install sip-tester)" >&2; exit 2; }

# A free UDP port (bind 0 and read it back); even when $1 is "even" (RTP pairs).
free_port() {
  python3 - "$1" <<'EOF'
import socket, sys
even = sys.argv[1] == "even"
for _ in range(200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]; s.close()
    if not even or (p % 2 == 0 and p < 65534):
        print(p); break
EOF
}

now() { date +%s.%N; }

# Runs the SIPp uac against 127.0.0.1:$1 and prints "calls_ok failed wall_s sipp_rate".
run_uac() {
  local target="$1" log="$WORK/uac-$1.log" t0 t1 rc=0
  t0=$(now)
  timeout "$TIMEOUT" sipp -sn uac "127.0.0.1:$target" -i 127.0.0.1 -p "$(free_port any)" \
    -mp "$(free_port even)" -m "$CALLS" -r "$RATE" -l "$LIMIT" -timeout "${TIMEOUT}s" -nostdin \
    -trace_err -error_file "$WORK/uac-$1.err" >"$log" 2>&1 || rc=$?
  t1=$(now)
  local ok failed rate
  ok=$(grep -E '^ *Successful call' "$log" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  failed=$(grep -E '^ *Failed call' "$log" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  rate=$(grep -E '^ *Call Rate' "$log" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  echo "${ok:-0} ${failed:-?} $(echo "$t1 - $t0" | bc -l) ${rate:-?} rc=$rc"
}

report() {
  local name="$1" ok failed wall rate rc
  read -r ok failed wall rate rc <<<"$2"
  printf '%-44s %8.0f calls/s  (%s ok, %s failed in %.2f s; SIPp cumulative rate %s; sipp %s)\n' \
    "$name" "$(echo "$ok / $wall" | bc -l)" "$ok" "$failed" "$wall" "$rate" "$rc"
}

echo "voicetwin SIP throughput on $(nproc) core(s), $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1), $CALLS calls offered at up to $RATE/s, at most $LIMIT open"

# 1. SIPp against SIPp.
UAS_PORT=$(free_port any)
sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -mp "$(free_port even)" -nostdin >"$WORK/uas.log" 2>&1 &
CHILDREN+=($!)
sleep 0.5
SIPP_RESULT=$(run_uac "$UAS_PORT")
kill "${CHILDREN[-1]}" 2>/dev/null || true

# 2. SIPp against our live driver (release build).
cargo build --release --quiet
SERVE_LOG="$WORK/serve.log"
target/release/voicetwin serve uas --listen 127.0.0.1:0 --no-media --max-calls "$CALLS" >"$SERVE_LOG" 2>&1 &
CHILDREN+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$SERVE_LOG" && break; sleep 0.05; done
OUR_PORT=$(sed -n 's/^listening on udp:127.0.0.1:\([0-9]*\)$/\1/p' "$SERVE_LOG")
OUR_RESULT=$(run_uac "$OUR_PORT")
# It exits by itself after --max-calls (and its linger); a signal stops it otherwise.
SERVE_PID="${CHILDREN[-1]}"
for _ in $(seq 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
kill -INT "$SERVE_PID" 2>/dev/null || true
wait "$SERVE_PID" 2>/dev/null || true

echo
report "SIPp uac -> SIPp uas (loopback)" "$SIPP_RESULT"
report "SIPp uac -> voicetwin serve uas (loopback)" "$OUR_RESULT"
grep -E '^(summary|messages):' "$SERVE_LOG" | sed 's/^/    voicetwin /' || true

# 3. Our in-memory call flows.
if [ -z "${SKIP_CRITERION:-}" ]; then
  echo
  echo "in-memory basic call flow (cargo bench --bench sip -- calls):"
  cargo bench --quiet --bench sip -- calls 2>/dev/null >"$WORK/bench.log" || true
  printf '    %s\n' "$(grep -m1 -E 'basic_call' "$WORK/bench.log")"
  grep -A3 -E 'basic_call' "$WORK/bench.log" | grep -m1 'thrpt' | sed 's/^ */    /'
  echo "live calls between two hosts on one thread over loopback (cargo bench --bench live):"
  cargo bench --quiet --bench live 2>/dev/null >"$WORK/live.log" || true
  for b in basic_call_loopback basic_call_loopback_media; do
    printf '    live/%s\n' "$b"
    grep -A3 -E "^live/$b\$" "$WORK/live.log" | grep -m1 'thrpt' | sed 's/^ */    /'
  done
fi
