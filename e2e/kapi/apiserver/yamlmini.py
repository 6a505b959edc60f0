"""yamlmini.py - a small YAML subset parser for request bodies (apply patches and
application/yaml): block mappings and sequences, plain/quoted scalars, block scalars (| >),
flow collections, comments, one document. Anything else is a ValueError naming the line."""

import json
import re

_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _scalar(s):
    if s in ("", "~", "null", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if _INT.match(s):
        return int(s)
    if _FLOAT.match(s) and any(c.isdigit() for c in s):
        return float(s)
    return s


def _strip_comment(s):
    quote = None
    for i, ch in enumerate(s):
        if quote:
            if ch == quote:
                quote = None
            elif ch == "\\" and quote == '"':
                continue
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()


class _Flow:
    """Flow collections and quoted scalars: [a, b], {k: v}, "x", 'y'."""

    def __init__(self, s, lineno):
        self.s, self.i, self.lineno = s, 0, lineno

    def err(self, msg):
        return ValueError("line %d: %s" % (self.lineno, msg))

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def value(self, stops=""):
        self.ws()
        if self.i >= len(self.s):
            raise self.err("unexpected end of flow value")
        ch = self.s[self.i]
        if ch == "[":
            self.i += 1
            out = []
            self.ws()
            if self.s[self.i:self.i + 1] == "]":
                self.i += 1
                return out
            while True:
                out.append(self.value(",]"))
                self.ws()
                c = self.s[self.i:self.i + 1]
                self.i += 1
                if c == "]":
                    return out
                if c != ",":
                    raise self.err("expected ',' or ']' in flow sequence")
        if ch == "{":
            self.i += 1
            out = {}
            self.ws()
            if self.s[self.i:self.i + 1] == "}":
                self.i += 1
                return out
            while True:
                k = self.value(":,}")
                self.ws()
                if self.s[self.i:self.i + 1] != ":":
                    raise self.err("expected ':' in flow mapping")
                self.i += 1
                out[k] = self.value(",}")
                self.ws()
                c = self.s[self.i:self.i + 1]
                self.i += 1
                if c == "}":
                    return out
                if c != ",":
                    raise self.err("expected ',' or '}' in flow mapping")
        if ch == '"':
            j = self.i + 1
            while j < len(self.s) and self.s[j] != '"':
                j += 2 if self.s[j] == "\\" else 1
            if j >= len(self.s):
                raise self.err("unterminated double-quoted string")
            raw = self.s[self.i:j + 1]
            self.i = j + 1
            try:
                return json.loads(raw)
            except ValueError:
                raise self.err("bad escape in %s" % raw)
        if ch == "'":
            j = self.i + 1
            out = []
            while True:
                if j >= len(self.s):
                    raise self.err("unterminated single-quoted string")
                if self.s[j] == "'":
                    if self.s[j + 1:j + 2] == "'":
                        out.append("'")
                        j += 2
                        continue
                    break
                out.append(self.s[j])
                j += 1
            self.i = j + 1
            return "".join(out)
        j = self.i
        while j < len(self.s) and self.s[j] not in stops:
            if self.s[j] == ":" and ":" in stops and (j + 1 >= len(self.s)
                                                      or self.s[j + 1] in " ,}]"):
                break
            j += 1
        tok = self.s[self.i:j].strip()
        self.i = j
        return _scalar(tok)


def _inline(s, lineno):
    """A value written on the same line as its key or dash."""
    if s[:1] in "[{\"'":
        f = _Flow(s, lineno)
        v = f.value()
        f.ws()
        if f.i != len(s):
            raise ValueError("line %d: unexpected text after value: %r" % (lineno, s[f.i:]))
        return v
    return _scalar(s)


def _split_key(text, lineno):
    """(key, rest) if text is 'key: rest' / 'key:', else None."""
    if text[:1] in "\"'":
        f = _Flow(text, lineno)
        key = f.value()
        rest = text[f.i:]
        if rest.startswith(":") and (len(rest) == 1 or rest[1] in " \t"):
            return str(key), rest[1:].strip()
        return None
    m = re.match(r"^([^#{}\[\],&*!|>'\"%@`][^#]*?|[^#:\s]):(?:\s+(.*)|$)", text)
    if not m:
        return None
    return m.group(1).strip(), (m.group(2) or "").strip()


class _Parser:
    def __init__(self, text):
        self.lines = []  # [indent, text, lineno]
        self.raw = text.split("\n")
        for n, line in enumerate(self.raw, 1):
            if "\t" in line[:len(line) - len(line.lstrip())]:
                raise ValueError("line %d: tabs are not allowed for indentation" % n)
            stripped = _strip_comment(line)
            if not stripped.strip():
                continue
            if stripped.strip() in ("---", "...") and not line.startswith(" "):
                if self.lines and stripped.strip() == "---":
                    raise ValueError("line %d: only one YAML document is supported" % n)
                continue
            if stripped.startswith("%"):
                continue
            ind = len(stripped) - len(stripped.lstrip(" "))
            self.lines.append([ind, stripped.strip(), n])
        self.pos = 0

    def parse(self):
        if not self.lines:
            return None
        v = self.block(self.lines[0][0])
        if self.pos != len(self.lines):
            ind, text, n = self.lines[self.pos]
            raise ValueError("line %d: unexpected content %r" % (n, text))
        return v

    def block(self, indent):
        ind, text, n = self.lines[self.pos]
        if text == "-" or text.startswith("- "):
            return self.seq(ind)
        if _split_key(text, n) is not None:
            return self.mapping(ind)
        self.pos += 1
        return _inline(text, n)

    def seq(self, indent):
        out = []
        while self.pos < len(self.lines):
            ind, text, n = self.lines[self.pos]
            if ind != indent or not (text == "-" or text.startswith("- ")):
                break
            rest = text[1:].strip()
            if not rest:
                self.pos += 1
                if self.pos < len(self.lines) and self.lines[self.pos][0] > indent:
                    out.append(self.block(self.lines[self.pos][0]))
                else:
                    out.append(None)
                continue
            col = indent + (len(text) - len(text[1:].lstrip())) 
            if rest.startswith("- ") or _split_key(rest, n) is not None:
                self.lines[self.pos] = [col, rest, n]
                out.append(self.block(col))
            else:
                self.pos += 1
                out.append(self.value_after(rest, n, indent))
        return out

    def mapping(self, indent):
        out = {}
        while self.pos < len(self.lines):
            ind, text, n = self.lines[self.pos]
            if ind != indent:
                if ind > indent:
                    raise ValueError("line %d: bad indentation" % n)
                break
            kv = _split_key(text, n)
            if kv is None:
                if text == "-" or text.startswith("- "):
                    break
                raise ValueError("line %d: expected 'key: value', got %r" % (n, text))
            key, rest = kv
            if key in out:
                raise ValueError("line %d: duplicate key %r" % (n, key))
            self.pos += 1
            if rest:
                out[key] = self.value_after(rest, n, indent)
            elif self.pos < len(self.lines) and (
                    self.lines[self.pos][0] > indent
                    or (self.lines[self.pos][0] == indent
                        and (self.lines[self.pos][1] == "-"
                             or self.lines[self.pos][1].startswith("- ")))):
                out[key] = self.block(self.lines[self.pos][0])
            else:
                out[key] = None
        return out

    def value_after(self, rest, n, indent):
        if rest[:1] in "|>":
            return self.block_scalar(rest, n, indent)
        if rest[:1] in "&*!":
            raise ValueError("line %d: anchors, aliases and tags are not supported" % n)
        return _inline(rest, n)

    def block_scalar(self, header, n, indent):
        m = re.match(r"^([|>])([-+]?)$", header)
        if not m:
            raise ValueError("line %d: unsupported block scalar header %r" % (n, header))
        style, chomp = m.groups()
        # Block scalars keep their raw lines (comments and blanks included).
        body = []
        lineno = n
        while lineno < len(self.raw):
            line = self.raw[lineno]
            if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
                break
            body.append(line)
            lineno += 1
        while body and not body[-1].strip():
            body.pop()
        while self.pos < len(self.lines) and self.lines[self.pos][2] <= lineno:
            self.pos += 1
        if not body:
            return ""
        bi = min(len(x) - len(x.lstrip(" ")) for x in body if x.strip())
        lines = [x[bi:] if x.strip() else "" for x in body]
        if style == "|":
            text = "\n".join(lines)
        else:
            text, prev_blank = "", True
            for x in lines:
                if not x:
                    text += "\n"
                    prev_blank = True
                else:
                    text += ("" if prev_blank else " ") + x
                    prev_blank = False
        return text if chomp == "-" else text + "\n"


def loads(text):
    return _Parser(text).parse()
