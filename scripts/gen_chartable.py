#!/usr/bin/env python3
"""Generate include/rgrid/text/chartable.hpp from hf_bert_chartable.json.

The JSON (../shared/golden/tokenizer/hf_bert_chartable.json) records what Hugging Face
tokenizers (Rust) does with every Unicode code point for bert-base-uncased: removed by the
normalizer, turned into a space, padded as CJK, mapped (NFD + drop Mn + lowercase), and what
the pre-tokenizer treats as whitespace or punctuation. This script turns it into compact C++
tables (ranges and sorted runs, a few KB) so rgrid agrees with HF on every code point.

Only the Python standard library is used. Usage:
    python3 scripts/gen_chartable.py [path/to/hf_bert_chartable.json] [output.hpp]

The table merges two different removals: clean_text drops control characters (Cc except
tab/LF/CR, Cf, Co, U+0000, U+FFFD) in both modes, while accent stripping drops Mn only when
lowercasing (uncased). Cased mode (do_lower_case=false) needs them apart, so each removed code
point is classified with unicodedata: C* (and U+FFFD) -> control, M* -> mark. The script checks
that no removed code point falls outside those two groups.
"""
import json
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_IN = os.path.join(HERE, "..", "..", "shared", "golden", "tokenizer", "hf_bert_chartable.json")
DEFAULT_OUT = os.path.join(HERE, "..", "include", "rgrid", "text", "chartable.hpp")

REMOVE_CONTROL, REMOVE_MARK, TO_SPACE, CJK, WHITESPACE, PUNCT = 1, 2, 4, 8, 16, 32
HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def hangul_nfd(cp):
    """Canonical decomposition of a precomposed Hangul syllable (Unicode ch. 3.12)."""
    i = cp - HANGUL_FIRST
    lead, vowel, tail = 0x1100 + i // 588, 0x1161 + (i % 588) // 28, i % 28
    return [lead, vowel] + ([0x11A7 + tail] if tail else [])


def category(cp):
    return "Cs" if 0xD800 <= cp <= 0xDFFF else unicodedata.category(chr(cp))


def flag_ranges(table):
    """Disjoint sorted (first, last, flags) covering every code point with non-zero flags."""
    events = {}  # boundary -> list of (flag, +1/-1)

    def add(ranges, flag):
        for first, last in ranges:
            events.setdefault(first, []).append((flag, 1))
            events.setdefault(last + 1, []).append((flag, -1))

    control, mark = [], []
    for first, last in table["removed_ranges"]:
        for cp in range(first, last + 1):
            cat = category(cp)
            if cp in (0, 0xFFFD) or cat in ("Cc", "Cf", "Co", "Cs"):
                control.append((cp, cp))
            elif cat in ("Mn", "Mc", "Me"):
                mark.append((cp, cp))
            else:
                sys.exit(f"gen_chartable: removed U+{cp:04X} is {cat}, neither control nor mark")
    add(control, REMOVE_CONTROL)
    add(mark, REMOVE_MARK)
    add(table["to_space_ranges"], TO_SPACE)
    add(table["cjk_ranges"], CJK)
    add(table["pretok_whitespace_ranges"], WHITESPACE)
    add(table["pretok_punct_ranges"], PUNCT)

    counts = {}
    out = []
    bounds = sorted(events)
    for i, b in enumerate(bounds):
        for flag, delta in events[b]:
            counts[flag] = counts.get(flag, 0) + delta
        flags = 0
        for flag, c in counts.items():
            if c > 0:
                flags |= flag
        if flags and i + 1 < len(bounds):
            first, last = b, bounds[i + 1] - 1
            if out and out[-1][2] == flags and out[-1][1] + 1 == first:
                out[-1][1] = last
            else:
                out.append([first, last, flags])
    return out


def mapping_tables(table):
    """(runs, others): runs of single-code-point maps cp -> cp + delta at a fixed step,
    and the remaining maps (2-3 code points). Hangul syllables are left out (algorithmic)."""
    mapped = {int(k, 16): [ord(c) for c in v] for k, v in table["mapped"].items()}
    for cp in range(HANGUL_FIRST, HANGUL_LAST + 1):
        if mapped.pop(cp, None) != hangul_nfd(cp):
            sys.exit(f"gen_chartable: U+{cp:04X} is not the algorithmic Hangul decomposition")
    singles = sorted((cp, to[0] - cp) for cp, to in mapped.items() if len(to) == 1)
    others = sorted((cp, to) for cp, to in mapped.items() if len(to) > 1)
    if any(len(to) > 3 for _, to in others):
        sys.exit("gen_chartable: a mapping longer than 3 code points")
    runs = []  # [first, count, step, delta]
    for cp, delta in singles:
        if runs:
            first, count, step, d = runs[-1]
            last = first + (count - 1) * step
            if d == delta and count == 1 and 0 < cp - first < 256:
                runs[-1][1], runs[-1][2] = 2, cp - first
                continue
            if d == delta and count > 1 and cp - last == step:
                runs[-1][1] += 1
                continue
        runs.append([cp, 1, 1, delta])
    return runs, others, len(mapped)


def wrap(items, per_line):
    lines = []
    for i in range(0, len(items), per_line):
        lines.append("    " + " ".join(items[i:i + per_line]))
    return "\n".join(lines)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_IN
    dst = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUT
    with open(src, encoding="utf-8") as f:
        table = json.load(f)
    ranges = flag_ranges(table)
    runs, others, n_mapped = mapping_tables(table)
    if any(count > 0xFFFF for _, count, _, _ in runs):
        sys.exit("gen_chartable: run too long")

    range_items = [f"{{0x{a:X}, 0x{b:X}, {fl}}}," for a, b, fl in ranges]
    run_items = [f"{{0x{a:X}, {n}, {s}, {d}}}," for a, n, s, d in runs]
    other_items = ["{0x%X, {%s}}," % (cp, ", ".join("0x%X" % c for c in to + [0] * (3 - len(to))))
                   for cp, to in others]
    text = f"""#pragma once
// GENERATED by scripts/gen_chartable.py from hf_bert_chartable.json (Hugging Face tokenizers
// 0.22.2, bert-base-uncased). Do not edit: change the generator and run it again.
// What HF's BertNormalizer + BertPreTokenizer do with each code point, as compact tables:
// {len(ranges)} flag ranges, {len(runs)} mapping runs + {len(others)} multi-code-point maps
// ({n_mapped} non-Hangul mapped code points; Hangul syllables decompose algorithmically).
#include <cstdint>

namespace rgrid::detail::chartable {{

/// Per-code-point flags (a code point in no range has none of them).
enum : std::uint8_t {{
    kRemoveControl = {REMOVE_CONTROL},  ///< clean_text drops it (Cc but \\t\\n\\r, Cf, Co per HF's tables, U+0000, U+FFFD)
    kRemoveMark = {REMOVE_MARK},     ///< strip_accents drops it (Mn per HF's tables); uncased mode only
    kToSpace = {TO_SPACE},       ///< clean_text turns it into U+0020
    kCjk = {CJK},           ///< handle_chinese_chars pads it with spaces (HF's ranges, incl. the 0x2B920 quirk)
    kWhitespace = {WHITESPACE},   ///< the pre-tokenizer splits on it (Rust char::is_whitespace)
    kPunct = {PUNCT},        ///< the pre-tokenizer isolates it (ASCII 33-47/58-64/91-96/123-126 or HF's P*)
}};

/// Inclusive code point range [first, last] carrying `flags`; sorted and disjoint.
struct FlagRange {{
    char32_t first, last;
    std::uint8_t flags;
}};
inline constexpr FlagRange kFlagRanges[] = {{
{wrap(range_items, 4)}
}};

/// Uncased mapping (NFD, drop Mn, lowercase) of one code point to one code point:
/// cp = first + i * step (i < count) maps to cp + delta.
struct MapRun {{
    char32_t first;
    std::uint16_t count;
    std::uint8_t step;
    std::int32_t delta;
}};
inline constexpr MapRun kMapRuns[] = {{
{wrap(run_items, 4)}
}};

/// Uncased mapping of one code point to two or three (zero-padded), sorted by `from`.
struct MapMulti {{
    char32_t from;
    char32_t to[3];
}};
inline constexpr MapMulti kMapMulti[] = {{
{wrap(other_items, 3)}
}};

/// Hangul syllables U+AC00..U+D7A3 map to their canonical jamo decomposition.
inline constexpr char32_t kHangulFirst = 0x{HANGUL_FIRST:X}, kHangulLast = 0x{HANGUL_LAST:X};

}}  // namespace rgrid::detail::chartable
"""
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"gen_chartable: wrote {dst}: {len(ranges)} ranges, {len(runs)} runs, "
          f"{len(others)} multi maps, {len(text)} bytes")


if __name__ == "__main__":
    main()
