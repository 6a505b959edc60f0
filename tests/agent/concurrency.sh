#!/usr/bin/env bash
# concurrency.sh - many clients at once get distinct ids and consistent answers; a silent or
# half-sent client neither blocks others nor lives past its deadline.
. "$(dirname "$0")/lib.sh"
need_root
setup_ns || exit 1
start_agent || exit 1

N=24
for i in $(seq 0 $((N - 1))); do
	add_veth "$i" || break
	VETH_IF[$i]=$HIF VETH_IDX[$i]=$HIDX VETH_MAC[$i]=$HMAC
done
# helper.py's "concurrent" takes one template; give each client its own veth via a wrapper.
python3 - "$SOCK" "$N" "$HERE" "${VETH_IF[@]}" "${VETH_IDX[@]}" "${VETH_MAC[@]}" <<'PY' >"$T/conc.out" 2>&1
import json, sys, threading
sys.path.insert(0, sys.argv[3])
from helper import call
sock, n = sys.argv[1], int(sys.argv[2])
rest = sys.argv[4:]
ifs, idxs, macs = rest[:n], rest[n:2 * n], rest[2 * n:]
errors, ids = [], {}
barrier = threading.Barrier(n)
def one(i):
    try:
        req = {"op": "endpoint_add", "containerID": f"conc{i}", "ifname": "eth0",
               "netns": f"/run/netns/p{i}", "ip": f"10.77.0.{10 + i}", "hostIfname": ifs[i],
               "hostIfindex": int(idxs[i]), "podMac": "02:00:00:00:01:%02x" % i,
               "hostMac": macs[i]}
        barrier.wait()
        r = call(sock, req)
        if not r.get("ok"):
            errors.append(f"add {i}: {r}"); return
        ids[i] = r["endpoint"]["id"]
        r = call(sock, {"op": "endpoint_get", "containerID": f"conc{i}", "ifname": "eth0"})
        if not r.get("ok") or r["endpoint"]["id"] != ids[i]:
            errors.append(f"get {i}: {r}")
        if i % 2:
            r = call(sock, {"op": "endpoint_del", "containerID": f"conc{i}", "ifname": "eth0"})
            if not r.get("ok"):
                errors.append(f"del {i}: {r}")
    except Exception as e:
        errors.append(f"client {i}: {e!r}")
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
[t.start() for t in ts]
[t.join() for t in ts]
if sorted(ids.values()) != list(range(1, n + 1)):
    errors.append(f"ids not 1..{n}: {sorted(ids.values())}")
print("\n".join(errors) or "ok")
sys.exit(1 if errors else 0)
PY
rc=$?
expect_eq "$N concurrent add/get/del clients (output: $(head -c 300 "$T/conc.out"))" "$rc" 0
expect_eq "half of them left" "$(api '{"op":"status"}' | jget endpoints)" $((N / 2))
left=$(bpftool -j map dump pinned "$BPFFS/v1/sl_endpoints" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect_eq "map holds exactly the endpoints left" "$left" $((N / 2))
expect_eq "state holds exactly the endpoints left" \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["endpoints"]))' "$STATE/endpoints.json")" $((N / 2))

out=$(python3 "$HERE/helper.py" slow "$SOCK")
rc=$?
expect_eq "slow clients do not block others, and time out ($out)" "$rc" 0

# More clients than the agent serves at once: the extra ones get code 11, nobody hangs.
python3 - "$SOCK" <<'PY' >"$T/flood.out" 2>&1
import json, socket, sys, time
sock = sys.argv[1]
held = []
for i in range(70):
    s = socket.socket(socket.AF_UNIX); s.connect(sock); held.append(s)
time.sleep(0.3)   # let the agent accept them all (no event to wait for from here)
busy = 0
for s in held[64:]:
    s.settimeout(2)
    try:
        if b'"code":11' in s.recv(200): busy += 1
    except OSError:
        pass
for s in held: s.close()
s = socket.socket(socket.AF_UNIX); s.settimeout(8); s.connect(sock)
s.sendall(b'{"op":"status"}\n'); ok = b'"ok":true' in s.recv(4096)
print(json.dumps({"busy": busy, "status_after": ok}))
sys.exit(0 if busy >= 1 and ok else 1)
PY
expect_eq "over the client limit: code 11, then normal service ($(cat "$T/flood.out"))" "$?" 0

check "agent still alive" kill -0 "$AGENT_PID"
finish
