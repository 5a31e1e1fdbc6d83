// tokenizer_corpus.mjs: builds the differential corpus for tests/node/tokenizer.test.mjs and
// bench/tokenizer.mjs, reproducibly: the same Debian packages (iso-codes translations, the
// libc6-dev/linux-libc-dev headers) and the same seed give the same bytes, whose SHA-256 the
// test prints. It only builds text; it does not tokenize.
//
// Sections: (1) Debian text: every translation in iso-codes' .mo catalogues (language, country,
// currency and script names in ~160 languages: Latin, Cyrillic, Greek, Arabic, Hebrew,
// Devanagari and other Indic scripts, Thai, CJK, Hangul, Ethiopic, ...), C headers (code), and
// user messages (sentences) from the catalogues of apt and Essential packages (coreutils, tar,
// dpkg, ...): an even share of each of ~400 catalogues in ~90 languages, and of the Chinese,
// Japanese and Korean ones alone;
// (2) seeded synthetic text from those words: random casing, contractions in every case ('S,
// 'RE, 'Ll, U+017F), NFD-decomposed words (combining marks), digit runs in many scripts,
// whitespace runs of every kind and newline convention, emoji ZWJ sequences, flags, keycaps,
// special-token text, '/' and punctuation clusters; (3) every Unicode code point (but
// surrogates) between varied neighbours; (4) long runs (one letter, spaces, digits, one giant
// word, CJK without punctuation) that stress the long-piece merge.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function packageFiles(pkgs, re) {
  const out = [];
  for (const p of pkgs) {
    let list;
    try {
      list = execFileSync("dpkg", ["-L", p], { encoding: "utf8" });
    } catch {
      throw new Error(`Debian package ${p} is not installed (scripts/bootstrap installs it)`);
    }
    for (const f of list.split("\n")) if (re.test(f) && fs.statSync(f, { throwIfNoEntry: false })?.isFile()) out.push(f);
  }
  return [...new Set(out)].sort();
}

function packageVersion(p) {
  return execFileSync("dpkg-query", ["-W", "-f=${Version}", p], { encoding: "utf8" });
}

// GNU gettext .mo: the translated strings (plural forms split), as text, decoded by the
// catalogue's own charset (its header's Content-Type; a few are ISO-8859-x, not UTF-8)
function moStrings(buf) {
  const le = buf.readUInt32LE(0) === 0x950412de;
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const n = u32(8), tOff = u32(16);
  const at = (i) => buf.subarray(u32(tOff + 8 * i + 4), u32(tOff + 8 * i + 4) + u32(tOff + 8 * i));
  let dec = new TextDecoder("utf-8");
  for (let i = 0; i < n; i++) {
    const m = /Content-Type:.*charset=([A-Za-z0-9_.:-]+)/.exec(at(i).toString("latin1"));
    if (!m) continue;
    try { dec = new TextDecoder(m[1]); } catch { /* a label TextDecoder does not know: UTF-8 */ }
    break;
  }
  const out = [];
  for (let i = 0; i < n; i++) {
    const s = dec.decode(at(i));
    if (s.startsWith("Project-Id-Version") || s.includes("Content-Type:")) continue; // header
    for (const part of s.split("\0")) if (part) out.push(part);
  }
  return out;
}

// the first `bytes` bytes of s's UTF-8, whole characters
function cutUtf8(s, bytes) {
  return Buffer.from(s, "utf8").subarray(0, bytes).toString("utf8").replace(/\uFFFD$/, "");
}

// An even share of each catalogue's text (its beginning, whole characters), about `bytes`
// together: the same cap for all, raised until the catalogues that have less than it are used
// whole and the rest fill the size
function catalogueSample(files, bytes) {
  const texts = files.map((f) => moStrings(fs.readFileSync(f)).join("\n"));
  const sizes = texts.map((t) => Buffer.byteLength(t));
  let lo = 0, hi = bytes;
  while (lo < hi) {
    const cap = Math.ceil((lo + hi) / 2);
    if (sizes.reduce((n, x) => n + Math.min(x, cap), 0) <= bytes) lo = cap;
    else hi = cap - 1;
  }
  return texts.map((t) => cutUtf8(t, lo)).join("\n\n");
}

// Packages present on every Debian system (Essential, and apt) whose catalogues hold user
// messages (sentences, option help, errors) in about 90 languages
const MESSAGE_PACKAGES = ["apt", "bash", "coreutils", "diffutils", "dpkg", "findutils", "grep", "sed", "tar"];
const CJK = /\/locale\/(ja|ko|zh_CN|zh_TW)\//;

export function debianText() {
  const mo = packageFiles(["iso-codes"], /\.mo$/);
  const headers = packageFiles(["libc6-dev", "linux-libc-dev"], /\.h$/);
  const prose = [];
  for (const f of mo) prose.push(moStrings(fs.readFileSync(f)).join("\n"));
  const code = headers.map((f) => fs.readFileSync(f, "latin1")).join("\n");
  const msgMo = packageFiles(MESSAGE_PACKAGES, /\.mo$/);
  const cjkMo = msgMo.filter((f) => CJK.test(f));
  return {
    prose: prose.join("\n\n"),
    code,
    // sentences: about 2 MB from every catalogue, and about 2 MB from the Chinese, Japanese and
    // Korean ones (long pieces: CJK is written without spaces)
    messages: catalogueSample(msgMo, 2_000_000),
    cjk: catalogueSample(cjkMo, 2_000_000),
    sources: `iso-codes ${packageVersion("iso-codes")} (${mo.length} .mo), libc6-dev ${packageVersion("libc6-dev")} + linux-libc-dev ${packageVersion("linux-libc-dev")} (${headers.length} headers), ` +
      `${MESSAGE_PACKAGES.map((p) => p + " " + packageVersion(p)).join(", ")} (${msgMo.length} .mo, ${cjkMo.length} of them CJK)`,
  };
}

const WS = ["\t", "\n", "\u000b", "\f", "\r", " ", "\u0085", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002",
  "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f",
  "\u205f", "\u3000", "\r\n", "\n\n", "  ", "    ", "\u200b", "\u180e", "\ufeff"];
const CONTR = ["s", "t", "re", "ve", "m", "ll", "d", "S", "T", "RE", "Re", "rE", "VE", "Ve", "M", "LL", "Ll", "lL", "D", "\u017f", "x", "r", "l"];
const EMOJI = ["👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "❤️", "👍🏿", "🇫🇷", "🇯🇵", "1️⃣", "#️⃣", "🧑‍🤝‍🧑", "😀", "🫠", "☺︎", "✌🏻", "🏴‍☠️", "👁‍🗨"];
const SPECIAL = ["<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endoftext", "<|", "|>", "<||>", "<|im_start|>"];
const DIGITS = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９", "¹²³⁴", "ⅠⅡⅢⅣⅫ", "①②③", "〇一二三", "߀߁߂"];
const PUNCT = ["/", "//", "///", "...", "!?", "—", "«", "»", "“", "”", "(", ")", "{", "}", ";", ":", "'", "\"", "`", "~", "@", "#", "$", "%", "^", "&", "*", "-", "_", "=", "+", "|", "\\", "<", ">", ",", ".", "?", "¿", "¡", "、", "。", "，", "・", "…", "†"];

export function synthetic(words, bytes, rnd) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const parts = [];
  let size = 0;
  const push = (s) => { parts.push(s); size += s.length; };
  while (size < bytes) {
    const r = rnd();
    let w = pick(words);
    const c = rnd();
    if (c < 0.1) w = w.toUpperCase();
    else if (c < 0.2) w = w[0].toUpperCase() + w.slice(1);
    else if (c < 0.25) w = w.normalize("NFD");
    else if (c < 0.28) w = [...w].map((ch) => (rnd() < 0.5 ? ch.toUpperCase() : ch.toLowerCase())).join("");
    if (r < 0.55) push((rnd() < 0.8 ? " " : "") + w);
    else if (r < 0.65) push(w + "'" + pick(CONTR));
    else if (r < 0.72) push(pick(WS) + (rnd() < 0.3 ? pick(WS) + pick(WS) : ""));
    else if (r < 0.78) { const d = pick(DIGITS); let s = ""; const n = 1 + Math.floor(rnd() * 12); for (let i = 0; i < n; i++) s += [...d][Math.floor(rnd() * [...d].length)]; push((rnd() < 0.5 ? " " : "") + s); }
    else if (r < 0.86) push((rnd() < 0.5 ? " " : "") + pick(PUNCT) + (rnd() < 0.3 ? pick(PUNCT) : "") + (rnd() < 0.2 ? pick(["\n", "\r\n", "/", "\r"]) : ""));
    else if (r < 0.91) push((rnd() < 0.5 ? " " : "") + pick(EMOJI) + (rnd() < 0.3 ? pick(EMOJI) : ""));
    else if (r < 0.93) push(pick(SPECIAL));
    else if (r < 0.96) push(pick(["\n", "\r\n", "\r", "\n\n", " \n", "\t\n  ", "\n   ", "   \n\n  \t"]));
    else push(String.fromCodePoint(0x300 + Math.floor(rnd() * 0x70)) + w); // a mark before a word
  }
  return parts.join("");
}

export function everyCodePoint(rnd) {
  const ctx = ["", " ", "a", "A", "1", "'s", "'S", "\n", "中", "\u0301", "x", " x", "!", "  ", "Ab", "ǅ", "ʰ", "\u00a0"];
  const parts = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    parts.push(ctx[Math.floor(rnd() * ctx.length)] + ch + ctx[Math.floor(rnd() * ctx.length)]);
    if (cp % 64 === 63) parts.push(rnd() < 0.5 ? "\n" : " ");
  }
  return parts.join("");
}

// Long pieces, kept to a few thousand characters: tiktoken's own merge is quadratic in the piece
// length (200 000 letters take it minutes). infercost's linear-time behaviour on 10 MB runs is
// checked by tests/unit/test_tokenizer.c and bench/tokenizer.sh, not here.
export function longRuns(rnd) {
  const giant = [];
  for (let i = 0; i < 4000; i++) giant.push(String.fromCharCode(97 + Math.floor(rnd() * 26)));
  const cjk = [];
  for (let i = 0; i < 3000; i++) cjk.push(String.fromCodePoint(0x4e00 + Math.floor(rnd() * 0x5000)));
  const rndcp = [];
  for (let i = 0; i < 100000; i++) {
    let cp = Math.floor(rnd() * 0x110000);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x20;
    rndcp.push(String.fromCodePoint(cp));
  }
  return [
    "a".repeat(4000), " ".repeat(4000) + "x", "\n".repeat(3000), " \n".repeat(2000), "1".repeat(10001),
    giant.join(""), cjk.join(""), "ab".repeat(2000), "A".repeat(2000) + "a".repeat(2000), "'s".repeat(3000),
    "\u0301".repeat(3000), "😀".repeat(2000), rndcp.join(""), " ".repeat(5000), "\t ".repeat(2000) + "\t",
  ].join("\n");
}

// The whole corpus: at least minBytes of UTF-8.
export function buildCorpus(minBytes = 52_000_000, seed = 20260301) {
  const rnd = mulberry32(seed);
  const deb = debianText();
  const words = [...new Set((deb.prose + " " + deb.code).split(/\s+/).filter((w) => w.length > 0 && w.length < 40))].sort();
  const fixed = [deb.prose, deb.code, everyCodePoint(rnd), longRuns(rnd), deb.messages, deb.cjk];
  let have = fixed.reduce((n, s) => n + Buffer.byteLength(s), 0);
  // synthetic text fills the rest, in 1 MB slices until the corpus reaches minBytes
  const synthParts = [];
  let synthBytes = 0;
  do {
    const part = synthetic(words, 1_000_000, rnd);
    synthParts.push(part);
    synthBytes += Buffer.byteLength(part);
  } while (have + synthBytes + 4 < minBytes);
  const synth = synthParts.join("");
  const text = [fixed[0], synth, fixed[1], fixed[2], fixed[3], fixed[4], fixed[5]].join("\n");
  const buf = Buffer.from(text, "utf8");
  return {
    text,
    buf,
    sha256: crypto.createHash("sha256").update(buf).digest("hex"),
    sources: deb.sources,
    sections: { debian_prose: Buffer.byteLength(deb.prose), debian_code: Buffer.byteLength(deb.code), synthetic: Buffer.byteLength(synth), every_code_point: Buffer.byteLength(fixed[2]), long_runs: Buffer.byteLength(fixed[3]), debian_messages: Buffer.byteLength(deb.messages), debian_cjk: Buffer.byteLength(deb.cjk) },
  };
}

// Natural text only (for the benchmark): the Debian prose, code and messages, without
// synthetic noise.
export function naturalText() {
  const deb = debianText();
  return { prose: deb.prose, code: deb.code, messages: deb.messages, cjk: deb.cjk, sources: deb.sources };
}
