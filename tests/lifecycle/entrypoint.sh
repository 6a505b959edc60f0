#!/usr/bin/env bash
# entrypoint.sh - manifests/image/sluice-entrypoint run directly (the image cannot be built
# here): install-cni copies the CNI binary into a stand-in for the host's /opt/cni/bin with a
# temp file + rename (a running old binary is not disturbed, nothing is left behind), mode 0755
# and never setuid; bad dirs are clear errors. agent maps the ConfigMap's files to flags that
# sluice-agent --help lists, refuses unknown keys, and the shipped ConfigMap parses.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC_ROOT=${SLUICE_SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}
EP=$SRC_ROOT/manifests/image/sluice-entrypoint
AGENT=${SLUICE_AGENT:?SLUICE_AGENT must name the sluice-agent binary}
CNI_BIN=${SLUICE_CNI:?SLUICE_CNI must name the sluice CNI binary}
PASS=0
FAIL=0
T=$(mktemp -d /tmp/slt-lc-ep-XXXXXX)
BG=
trap '[ -n "$BG" ] && kill "$BG" 2>/dev/null; rm -rf "$T"' EXIT
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi; }
expect_match() { if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else bad "$1: '$2' !~ /$3/"; fi; }

check "entrypoint is POSIX sh (dash -n)" dash -n "$EP"
BIN=$T/opt/cni/bin
mkdir -p "$BIN"
install() { SLUICE_CNI_SRC=${1:-$CNI_BIN} SLUICE_CNI_BIN_DIR=$BIN dash "$EP" install-cni; }

out=$(install 2>&1)
expect_eq "install-cni exits 0 ($out)" "$?" 0
check "installed binary is the CNI binary" cmp -s "$CNI_BIN" "$BIN/sluice"
expect_eq "mode 0755" "$(stat -c %a "$BIN/sluice")" 755
expect_eq "nothing else left in the bin dir" "$(ls -A "$BIN")" sluice
expect_match "it runs (VERSION)" "$(CNI_COMMAND=VERSION "$BIN/sluice" </dev/null)" 'supportedVersions'

# An old binary that is executing: cp onto it would fail (ETXTBSY); rename replaces it.
cp /bin/sleep "$BIN/sluice"
"$BIN/sluice" 30 &
BG=$!
old_ino=$(stat -c %i "$BIN/sluice")
out=$(install 2>&1)
expect_eq "install over a running old binary exits 0 ($out)" "$?" 0
check "old binary still running, undisturbed" kill -0 "$BG"
expect_match "it runs the old, now unlinked, file" "$(readlink "/proc/$BG/exe")" '\(deleted\)$'
check "new file is a new inode (rename, not overwrite)" test "$(stat -c %i "$BIN/sluice")" != "$old_ino"
check "new file is the CNI binary" cmp -s "$CNI_BIN" "$BIN/sluice"
kill "$BG" 2>/dev/null
wait "$BG" 2>/dev/null
BG=

# Never setuid, even from a setuid source.
cp "$CNI_BIN" "$T/suid-src"
chmod 6755 "$T/suid-src"
install "$T/suid-src" >/dev/null 2>&1
expect_eq "setuid/setgid source installed without those bits" "$(stat -c %a "$BIN/sluice")" 755
expect_eq "no setuid file in the bin dir" "$(find "$BIN" -perm /6000 | wc -l)" 0

out=$(SLUICE_CNI_SRC=$CNI_BIN SLUICE_CNI_BIN_DIR=$T/nope dash "$EP" install-cni 2>&1)
expect_eq "missing bin dir: exit 1" "$?" 1
expect_match "... naming it" "$out" "$T/nope: not a directory"
out=$(SLUICE_CNI_SRC=$T/none SLUICE_CNI_BIN_DIR=$BIN dash "$EP" install-cni 2>&1)
expect_eq "missing source: exit 1" "$?" 1
expect_match "... naming it" "$out" "$T/none: no such file"
expect_eq "failed installs left no temp file" "$(ls -A "$BIN")" sluice
out=$(dash "$EP" frobnicate 2>&1)
expect_eq "unknown command: exit 2" "$?" 2

# agent: ConfigMap files -> flags (a fake agent prints its arguments; --help from the real one).
FAKE=$T/fake-agent
cat >"$FAKE" <<F
#!/bin/sh
[ "\${1:-}" = --help ] && exec "$AGENT" --help
for a in "\$@"; do printf '[%s]' "\$a"; done
echo
F
chmod +x "$FAKE"
CFG=$T/config
mkdir -p "$CFG/..2026_01_01" && ln -s ..2026_01_01 "$CFG/..data" # kubelet's layout
printf 'debug' >"$CFG/log-level"
printf '' >"$CFG/metrics-addr"
printf '/sys/fs/bpf/sluice\n' >"$CFG/bpffs"
agent() { SLUICE_AGENT=$FAKE SLUICE_CONFIG_DIR=$CFG SLUICE_NODE=node-a dash "$EP" agent "$@"; }
expect_eq "agent: --node, then each key as a flag, then extra arguments" "$(agent --x 2>&1)" \
	"[--node][node-a][--bpffs][/sys/fs/bpf/sluice][--log-level][debug][--metrics-addr][][--x]"
printf 'x' >"$CFG/no-such-flag"
out=$(agent 2>&1)
expect_eq "unknown key: exit 2" "$?" 2
expect_match "... naming the key" "$out" "'--no-such-flag' is not a flag"
rm "$CFG/no-such-flag"

# The shipped ConfigMap: every key a real flag, every value accepted (the real agent parses
# them all before --help).
python3 - "$SRC_ROOT/manifests/sluice.yaml" "$T/shipped" <<'PY' || bad "ConfigMap extracted"
import os, re, sys
text = open(sys.argv[1]).read()
doc = [d for d in text.split("\n---\n") if re.search(r"^kind: ConfigMap$", d, re.M)][0]
data = doc.split("\ndata:\n", 1)[1]
os.makedirs(sys.argv[2])
key = None
for line in data.splitlines():
    m = re.match(r'^  ([a-z0-9-]+): (?:"(.*)"|(\|))$', line)
    if m:
        key = m.group(1) if m.group(3) else None
        open(os.path.join(sys.argv[2], m.group(1)), "w").write(m.group(2) or "")
    elif key and line.startswith("    "):            # a block scalar's line
        open(os.path.join(sys.argv[2], key), "a").write(line[4:] + "\n")
PY
expect_eq "shipped ConfigMap has the settings" "$(ls "$T/shipped" | sort | tr '\n' ' ')" \
	"bpffs cni-conf-dir conflist-template log-level metrics-addr state-dir "
expect_match "conflist-template is passed as its file's path" \
	"$(SLUICE_AGENT=$FAKE SLUICE_CONFIG_DIR=$T/shipped SLUICE_NODE=n dash "$EP" agent 2>&1)" \
	"\\[--conflist-template\\]\\[$T/shipped/conflist-template\\]"
out=$(SLUICE_AGENT=$AGENT SLUICE_CONFIG_DIR=$T/shipped SLUICE_NODE=node-a \
	dash "$EP" agent --help 2>&1)
expect_eq "the real agent accepts the shipped ConfigMap's flags ($(head -1 <<<"$out"))" "$?" 0

# cleanup: the agent's subcommand with the ConfigMap's dirs, then the binary goes. In a fresh,
# empty network namespace (root only): cleanup looks at every link and route of its netns.
if [ "$(id -u)" -eq 0 ]; then
	printf '%s' "$T/bpffs" >"$CFG/bpffs"
	printf '%s' "$T/state" >"$CFG/state-dir"
	printf '%s' "$T/net.d" >"$CFG/cni-conf-dir"
	out=$(SLUICE_AGENT=$AGENT SLUICE_CONFIG_DIR=$CFG SLUICE_CNI_BIN_DIR=$BIN \
		unshare --net dash "$EP" cleanup 2>&1)
	expect_eq "cleanup exits 0 ($(tail -1 <<<"$out"))" "$?" 0
	check "cleanup removed the CNI binary" test ! -e "$BIN/sluice"
else
	echo "# not root: cleanup part skipped"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
