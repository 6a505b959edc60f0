# reach.py - expected reachability: the 9x9 (or NxN) truth table of a probe, built from a
# case's rules (as upstream's Reachability.ExpectPeer) or from a grid, and the printed table
# of what was observed, with the wrong cells marked.
import fnmatch

PROBES = ["80/tcp", "81/tcp", "80/udp", "81/udp", "80/sctp", "81/sctp"]


class CaseError(Exception):
    """A case file that does not say what it means: the message names the file and field."""


def parse_peer(text, where):
    """'x/a', 'x/*', '*/a', '*' -> a glob over 'ns/name'."""
    text = text.strip()
    if text == "*":
        return "*/*"
    if text.count("/") != 1:
        raise CaseError(f"{where}: peer {text!r}: want NS/NAME, NS/*, */NAME or *")
    return text


def parse_rule(text, where):
    """'allow FROM -> TO' or 'deny FROM -> TO' -> (bool, from glob, to glob)."""
    verb, _, rest = text.strip().partition(" ")
    if verb not in ("allow", "deny") or "->" not in rest:
        raise CaseError(f"{where}: rule {text!r}: want 'allow FROM -> TO' or 'deny FROM -> TO'")
    frm, _, to = rest.partition("->")
    return verb == "allow", parse_peer(frm, where), parse_peer(to, where)


def from_rules(pods, default, rules, where):
    """{from: {to: bool}}: default everywhere, then each rule in order (later ones win)."""
    m = {a: {b: default for b in pods} for a in pods}
    for text in rules:
        ok, fg, tg = parse_rule(text, where)
        hit = False
        for a in pods:
            if not fnmatch.fnmatchcase(a, fg):
                continue
            for b in pods:
                if fnmatch.fnmatchcase(b, tg):
                    m[a][b] = ok
                    hit = True
        if not hit:
            raise CaseError(f"{where}: rule {text!r} matches no pair of pods")
    return loopback(m)


def from_grid(pods, text, where):
    """A grid as `format_table` prints it without marks: a header line of column numbers, then
    one row per source pod: number, name, then '.' (answers) or 'X' (no answer) per target."""
    rows = [ln.split() for ln in text.strip().splitlines() if ln.strip()]
    body = [r for r in rows if len(r) >= 2 and "/" in r[1]]
    if [r[1] for r in body] != pods:
        raise CaseError(f"{where}: grid rows {[r[1] for r in body]} are not the pods {pods}")
    m = {}
    for r in body:
        cells = r[2:]
        if len(cells) != len(pods) or any(c not in (".", "X") for c in cells):
            raise CaseError(f"{where}: grid row {r[1]}: want {len(pods)} cells of '.' or 'X'")
        m[r[1]] = {b: c == "." for b, c in zip(pods, cells)}
    return loopback(m)


def loopback(m):
    """A pod reaches itself always: its own address never leaves its namespace (upstream's
    AllowLoopback)."""
    for a in m:
        m[a][a] = True
    return m


def wrong_cells(expected, observed):
    return [(a, b) for a in expected for b in expected[a] if expected[a][b] != observed[a][b]]


def format_table(probe, expected, observed):
    """The observed table; a wrong cell is printed as '!' (answered, should not have) or '?'
    (no answer, should have)."""
    pods = list(expected)
    w = max(len(p) for p in pods)
    lines = [f"  {probe}: rows = from, columns = to"]
    lines.append(" " * (w + 7) + " ".join(f"{i + 1:>2}" for i in range(len(pods))))
    for i, a in enumerate(pods):
        cells = []
        for b in pods:
            o, e = observed[a][b], expected[a][b]
            cells.append(("." if o else "X") if o == e else ("!" if o else "?"))
        lines.append(f"  {i + 1:>3}  {a:<{w}} " + " ".join(f"{c:>2}" for c in cells))
    lines.append("  '.' answered, 'X' no answer (both as expected); '!' answered but should "
                 "not have, '?' no answer but should have")
    return "\n".join(lines)
