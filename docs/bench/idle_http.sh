#!/bin/bash
# Idle CPU of `aftercare run --http` for 60 s against a loopback Bot API stub.
set -e
BIN=$1; DIR=$(dirname "$0"); TMP=${TMPDIR:-/tmp}; PORT=18771; HTTP=127.0.0.1:18772
rm -f $TMP/aftercare-idle.db*
python3 $DIR/botapi_stub.py $PORT & STUB=$!
sleep 1
TELOXIDE_TOKEN=1:bench TELOXIDE_API_URL=http://127.0.0.1:$PORT/ DATABASE_URL=sqlite://$TMP/aftercare-idle.db \
  AFTERCARE_MESSAGES=${AFTERCARE_MESSAGES:-./messages} RUST_LOG=info \
  $BIN run --http $HTTP 2>$TMP/aftercare-idle.log & BOT=$!
sleep 5; kill -0 $BOT || { cat $TMP/aftercare-idle.log; exit 1; }
curl -s -o /dev/null -w "healthz %{http_code}\n" http://$HTTP/healthz
tick=$(getconf CLK_TCK)
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$BOT/stat)
sleep 60
read -r u2 s2 < <(awk '{print $14, $15}' /proc/$BOT/stat)
rss=$(awk '/VmRSS/ {print $2}' /proc/$BOT/status)
echo "cpu_ms_in_60s=$(( (u2+s2-u1-s1) * 1000 / tick )) ticks=$((u2+s2-u1-s1)) clk_tck=$tick rss_kb=$rss"
# With one /healthz and one /metrics scrape every 15 s (as Prometheus and Docker would).
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$BOT/stat)
for i in 1 2 3 4; do
  curl -s -o /dev/null http://$HTTP/healthz; curl -s -o /dev/null http://$HTTP/metrics; sleep 15
done
read -r u2 s2 < <(awk '{print $14, $15}' /proc/$BOT/stat)
echo "scraped_cpu_ms_in_60s=$(( (u2+s2-u1-s1) * 1000 / tick ))"
kill -TERM $BOT; wait $BOT || true
kill $STUB; wait $STUB 2>/dev/null || true
rm -f $TMP/aftercare-idle.db*
