#!/bin/bash
# vllm-aws watchdog: restarts a vLLM container whose engine stopped making progress while requests wait.
#
# Why: a hung engine still answers /health with 200 (vLLM's /health fails only on EngineDeadError,
# vllm/entrypoints/serve/instrumentator/health.py, vLLM 0.33.0), so the load balancer keeps it in rotation, and
# Docker restarts a container only when it exits, never when it is unhealthy (moby/moby#28400, #49161).
#
# Rule, from vLLM's own metrics (vllm/v1/metrics/loggers.py): requests are running or waiting
# (vllm:num_requests_running + vllm:num_requests_waiting > 0) and the engine's step counter
# (vllm:iteration_tokens_total_count, observed once per engine step) and generated tokens
# (vllm:generation_tokens_total) have not moved for STALL_SECONDS. An idle server, or one whose /metrics does not
# answer (loading, restarting: the health wait and Docker's restart policy own those), is never touched.
#
# Run by vllm-aws-watchdog.timer every 30 s, as root. Settings (WATCHDOG_CONFIG, written by vllm-aws):
#   STALL_SECONDS=360            no progress for this long with requests waiting -> restart
#   STOP_GRACE_SECONDS=630       docker restart -t: vLLM's --shutdown-timeout plus its exit margin
#   SERVERS="vllm-m-0:8000 ..."  container:host-port pairs on this host
#   STATE_DIR=/run/vllm-aws-watchdog
set -uo pipefail

: "${WATCHDOG_CONFIG:=/etc/vllm-aws/watchdog.env}"
# shellcheck source=/dev/null
. "$WATCHDOG_CONFIG"
: "${STALL_SECONDS:?missing from $WATCHDOG_CONFIG}" "${STOP_GRACE_SECONDS:?}" "${SERVERS:?}" "${STATE_DIR:?}"
mkdir -p -- "$STATE_DIR"

# Sum of every series of one metric (any labels) in a Prometheus text exposition on stdin.
metric_sum() {
    awk -v name="$1" '
        $1 == name || index($1, name "{") == 1 { sum += $NF; found = 1 }
        END { if (found) printf "%.0f\n", sum; else print "" }'
}

check() {
    local container=$1 port=$2 metrics now state progress busy last_progress last_change
    metrics=$(curl -sf --max-time 10 "http://127.0.0.1:$port/metrics") || return 0
    now=$(date +%s)
    state="$STATE_DIR/$container"
    progress="$(metric_sum 'vllm:iteration_tokens_total_count' <<<"$metrics"):$(metric_sum 'vllm:generation_tokens_total' <<<"$metrics")"
    busy=$(( $(metric_sum 'vllm:num_requests_running' <<<"$metrics" | sed 's/^$/0/') \
        + $(metric_sum 'vllm:num_requests_waiting' <<<"$metrics" | sed 's/^$/0/') ))
    read -r last_progress last_change 2>/dev/null <"$state" || { last_progress=""; last_change=$now; }
    if [[ $progress != "$last_progress" || $busy -eq 0 ]]; then
        printf '%s %s\n' "$progress" "$now" >"$state"
        return 0
    fi
    if (( now - last_change >= STALL_SECONDS )); then
        echo "vllm-aws-watchdog: $container: $busy request(s) waiting, no engine progress for $((now - last_change)) s" \
            "(>= $STALL_SECONDS s): restarting it"
        docker restart -t "$STOP_GRACE_SECONDS" "$container"
        # The restarted server starts a new clock (and loads for minutes without /metrics).
        printf '%s %s\n' "restarted" "$now" >"$state"
    fi
}

for server in $SERVERS; do
    check "${server%%:*}" "${server##*:}"
done
