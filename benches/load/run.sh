#!/usr/bin/env bash
# Load test: Sovgate (release build, full inspection, audit on) in front of a fast stub, against
# nginx proxying the same stub and the stub called directly, with wrk on loopback.
#
#   benches/load/run.sh                 # DUR=10 s per run; results under target/load/<stamp>/
#   DUR=5 BODIES="clean-2k" benches/load/run.sh
#
# Per target (direct, nginx, sovgate) and body (the peers' 1.26 KB chat request, the clean and
# dirty 2 KB chat bodies of benches/corpus/):
#   max   : closed loop, CONC connections as fast as they go -> req/s, and the target's CPU
#           time per request (process tree, from /proc)
#   paced : PACED_CONC connections, each waiting PACED_DELAY_MS between requests (about
#           1,000 req/s with the defaults) -> p50 / p90 / p99 latency
# and the target's RSS when idle (after start, and after the runs).
# The target gets CPU GW_CPUS (1), the stub and wrk get RIG_CPUS (0), as in ../shared/peers.
# nginx is started with ../shared/peers/peer.sh. Needs wrk and nginx (installed with apt-get
# when missing and running as root). Not part of CI.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PEERS="$(cd "$ROOT/../shared/peers" && pwd)"

DUR="${DUR:-10}"
CONC="${CONC:-32}"
PACED_CONC="${PACED_CONC:-10}"
PACED_DELAY_MS="${PACED_DELAY_MS:-10}"
TARGETS="${TARGETS:-direct nginx sovgate}"
BODIES="${BODIES:-peers-1.26k clean-2k dirty-2k}"
export STUB_PORT="${STUB_PORT:-28000}" NGINX_PORT="${NGINX_PORT:-28080}"
SOV_PORT="${SOV_PORT:-28090}"
ADMIN_PORT="${ADMIN_PORT:-28091}"
export GW_CPUS="${GW_CPUS-1}" RIG_CPUS="${RIG_CPUS-0}"
export MOCK_PORT="$STUB_PORT"   # what peer.sh calls the backend port
OUT="${OUT:-$ROOT/target/load/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"

GW_PIN=(); RIG_PIN=()
[ -n "$GW_CPUS" ] && GW_PIN=(taskset -c "$GW_CPUS")
[ -n "$RIG_CPUS" ] && RIG_PIN=(taskset -c "$RIG_CPUS")

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "wrk and nginx are needed: apt-get install wrk nginx-light" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk nginx-light >/dev/null
fi

body_file() {
  case "$1" in
    peers-1.26k) echo "$PEERS/configs/request-chat.json" ;;
    clean-2k) echo "$ROOT/benches/corpus/chat-clean-2k.json" ;;
    dirty-2k) echo "$ROOT/benches/corpus/chat-dirty-2k.json" ;;
    *) echo "unknown body $1" >&2; exit 1 ;;
  esac
}

(cd "$ROOT" && cargo build --release --bin sovgate --example bench_stub)
BIN="$ROOT/target/release"

PIDS=()
cleanup() {
  "$PEERS/peer.sh" stop nginx >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_up() { # wait_up URL PID
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -m 1 "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "process $2 exited before $1 came up" >&2; return 1; }
    sleep 0.1
  done
  echo "timeout waiting for $1" >&2; return 1
}

proc() { python3 "$PEERS/proctree.py" "$1"; }

"${RIG_PIN[@]}" "$BIN/examples/bench_stub" "127.0.0.1:$STUB_PORT" >"$OUT/stub.log" 2>&1 &
PIDS+=($!)
wait_up "http://127.0.0.1:$STUB_PORT/health" "${PIDS[-1]}"

start_target() { # start_target NAME -> sets URL and PID
  case "$1" in
    direct)
      URL="http://127.0.0.1:$STUB_PORT/v1/chat/completions"; PID="${PIDS[0]}" ;;
    nginx)
      "$PEERS/peer.sh" start nginx
      URL="http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
      PID="$(cat "${PEERS_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-gateway-peers}/run/nginx-master.pid")" ;;
    sovgate)
      sed -e "s/@SOV_PORT@/$SOV_PORT/" -e "s/@ADMIN_PORT@/$ADMIN_PORT/" -e "s/@STUB_PORT@/$STUB_PORT/" \
        "$HERE/sovgate.toml.tmpl" >"$OUT/sovgate.toml"
      RUST_LOG=warn "${GW_PIN[@]}" "$BIN/sovgate" serve --config "$OUT/sovgate.toml" >"$OUT/sovgate.log" 2>&1 &
      PID=$!; PIDS+=("$PID")
      wait_up "http://127.0.0.1:$ADMIN_PORT/healthz" "$PID"
      URL="http://127.0.0.1:$SOV_PORT/v1/chat/completions" ;;
  esac
}

stop_target() {
  case "$1" in
    nginx) "$PEERS/peer.sh" stop nginx ;;
    sovgate) kill "$PID"; wait "$PID" 2>/dev/null || true ;;
  esac
}

run_wrk() { # run_wrk RESULT BODYFILE CONNS DELAY_MS
  RESULT="$1" BODY="$2" DELAY_MS="$4" "${RIG_PIN[@]}" \
    wrk -t1 -c"$3" -d"${DUR}s" -s "$HERE/post.lua" "$URL" >/dev/null
}

{
  echo "{\"date\":\"$(date -u +%FT%TZ)\",\"nproc\":$(nproc),"
  echo "\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\","
  echo "\"gw_cpus\":\"$GW_CPUS\",\"rig_cpus\":\"$RIG_CPUS\",\"dur_s\":$DUR,\"conc\":$CONC,"
  echo "\"paced_conc\":$PACED_CONC,\"paced_delay_ms\":$PACED_DELAY_MS,"
  echo "\"wrk\":\"$(wrk -v 2>&1 | head -1 | cut -d' ' -f2)\",\"nginx\":\"$(nginx -v 2>&1 | cut -d/ -f2)\"}"
} >"$OUT/env.json"

for t in $TARGETS; do
  echo "== $t"
  start_target "$t"
  sleep 1
  proc "$PID" >"$OUT/$t-idle-start.json"
  for b in $BODIES; do
    f="$(body_file "$b")"
    code="$(curl -s -o "$OUT/$t-$b-probe.txt" -w '%{http_code}' -H 'Content-Type: application/json' \
            --data-binary "@$f" "$URL")"
    [ "$code" = 200 ] || { echo "$t $b: probe answered $code (see $OUT/$t-$b-probe.txt)" >&2; exit 1; }
    RESULT=/dev/null BODY="$f" DELAY_MS=0 "${RIG_PIN[@]}" wrk -t1 -c8 -d2s -s "$HERE/post.lua" "$URL" >/dev/null
    before="$(proc "$PID")"
    run_wrk "$OUT/$t-$b-max.json" "$f" "$CONC" 0
    after="$(proc "$PID")"
    echo "{\"before\":$before,\"after\":$after}" >"$OUT/$t-$b-cpu.json"
    run_wrk "$OUT/$t-$b-paced.json" "$f" "$PACED_CONC" "$PACED_DELAY_MS"
    echo "   $b: $(cat "$OUT/$t-$b-max.json")"
  done
  sleep 2
  proc "$PID" >"$OUT/$t-idle-end.json"
  stop_target "$t"
done

python3 "$HERE/summarize.py" "$OUT" | tee "$OUT/summary.md"
