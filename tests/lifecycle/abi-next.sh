#!/usr/bin/env bash
# abi-next.sh SRC OUT - builds "the next release" for the upgrade test: a copy of the source
# tree SRC in OUT/src whose bpf/include/sl_abi.h says SL_ABI_VERSION + 1 and has a different
# struct sl_ct_val layout (a new first field, created_ns: every other field moves by 8 bytes),
# built with meson in OUT/build. Prints the path of that build's sluice-agent.
#
# By hand:  tests/lifecycle/abi-next.sh . /tmp/sluice-next   (then run the printed agent against
# the same --bpffs as the current one, after stopping it: it migrates the older pins.)
# Incremental: files are copied with their times and the patched header is rewritten only when
# it changes, so a second run rebuilds only what changed in SRC.
set -euo pipefail
SRC=$(cd "${1:?usage: abi-next.sh SRC OUT}" && pwd)
OUT=${2:?usage: abi-next.sh SRC OUT}
mkdir -p "$OUT/src"
OUT=$(cd "$OUT" && pwd)

# The tree without build directories (any with meson-private/), VCS data, or the header we
# patch.
excl=(--exclude=./.git --exclude=./bpf/include/sl_abi.h)
for d in "$SRC"/*/; do
	[ -d "$d/meson-private" ] && excl+=("--exclude=./$(basename "$d")")
done
case $OUT in "$SRC"/*) excl+=("--exclude=./${OUT#"$SRC"/}") ;; esac
tar -C "$SRC" "${excl[@]}" -cf - . | tar -C "$OUT/src" -xf -

python3 - "$SRC/bpf/include/sl_abi.h" "$OUT/src/bpf/include/sl_abi.h" <<'PY'
import re, sys
src, dst = sys.argv[1], sys.argv[2]
s = open(src).read()
m = re.search(r"#define SL_ABI_VERSION (\d+)\n", s)
if not m:
    sys.exit("abi-next: no '#define SL_ABI_VERSION N' in " + src)
s = s.replace(m.group(0), "#define SL_ABI_VERSION %d\n" % (int(m.group(1)) + 1))
old_struct = "struct sl_ct_val {\n\t__u64 expires_ns;"
old_assert = '_Static_assert(sizeof(struct sl_ct_val) == 48, "sl_ct_val is ABI");'
for pat in (old_struct, old_assert):
    if s.count(pat) != 1:
        sys.exit("abi-next: %s: expected exactly one %r (update abi-next.sh with the ABI)"
                 % (src, pat))
s = s.replace(old_struct, "struct sl_ct_val {\n\t__u64 created_ns; /* abi-next.sh's layout change */"
              "\n\t__u64 expires_ns;")
s = s.replace(old_assert, old_assert.replace("48", "56"))
try:
    cur = open(dst).read()
except FileNotFoundError:
    cur = None
if cur != s:
    open(dst, "w").write(s)
PY

if [ ! -f "$OUT/build/build.ninja" ]; then
	meson setup "$OUT/build" "$OUT/src" >"$OUT/setup.log" 2>&1 ||
		{ cat "$OUT/setup.log" >&2; exit 1; }
fi
ninja -C "$OUT/build" agent/sluice-agent >"$OUT/ninja.log" 2>&1 ||
	{ tail -40 "$OUT/ninja.log" >&2; exit 1; }
echo "$OUT/build/agent/sluice-agent"
