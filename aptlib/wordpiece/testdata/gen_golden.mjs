// gen_golden.mjs writes golden_uncased.json, the reference tokenizations that
// wordpiece_golden_test.go checks the Go tokenizer against.
//
// References (both run from a tokenizer.json built here from the bert-base-uncased
// vocab.txt in the standard layout: BertNormalizer lowercase=true, strip_accents=null,
// handle_chinese_chars=true, clean_text=true; BertPreTokenizer; WordPiece with [UNK],
// "##", max_input_chars_per_word 100; TemplateProcessing [CLS] $A [SEP] $B:1 [SEP]:1):
//   - npm "tokenizers" 0.23.2: HuggingFace's Rust tokenizers (what BertTokenizerFast
//     runs), through its Node bindings. It gives ids, tokens, type ids, word ids,
//     offsets (in code points; converted to UTF-8 byte offsets here) and truncation.
//   - npm "@huggingface/transformers" 4.3.2 (transformers.js; its tokenizer is
//     "@huggingface/tokenizers" 0.2.0, pure JS): tokens only, as a second opinion.
//
// The expected values are python BertTokenizer's (transformers, tokenization_bert.py).
// For the uncased vocabulary they equal the Rust output except for pair truncation:
// when both sequences must be cut and the budget is odd, python's truncate_sequences
// ('longest_first') leaves the extra token to the first sequence, the Rust
// truncate_encodings to the longer one (the second on a tie). For those cases the
// expected encoding is built from the untruncated Rust pair with python's rule, and the
// Rust result is kept under "rust" for the record. Where transformers.js disagrees,
// "js_tokens" holds its tokens and "js_note" says why python (= Rust here) is right.
//
// Run it with the reference packages installed outside the repository (the npm
// registry is the only network access needed; --ignore-scripts skips onnxruntime's
// download of GPU binaries, which the tokenizer does not use):
//   mkdir -p /tmp/wpref && cd /tmp/wpref && npm init -y >/dev/null
//   npm install --ignore-scripts tokenizers@0.23.2 @huggingface/transformers@4.3.2
//   cd <repo>/aptlib/wordpiece/testdata
//   WPREF=/tmp/wpref node gen_golden.mjs ../../../../shared/models/bert-base-uncased-vocab/vocab.txt golden_uncased.json
// (node 20; WPREF is the directory holding node_modules, default /tmp/wpref.)
// The script fails when transformers.js disagrees with the expected values on a case
// that has no "js_note" explaining why, and when Rust's truncation of a single text
// or of pre-split words differs from python's.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const refDir = process.env.WPREF || '/tmp/wpref';
const require = createRequire(path.join(refDir, 'package.json'));
const rust = require('tokenizers');
const transformersJS = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href);

const [vocabPath, outPath] = process.argv.slice(2);
if (!vocabPath || !outPath) {
  console.error('usage: gen_golden.mjs VOCAB.txt OUT.json');
  process.exit(2);
}
const vocabBytes = fs.readFileSync(vocabPath);
const lines = vocabBytes.toString('utf8').split('\n');
if (lines.at(-1) === '') lines.pop();
const vocab = {};
lines.forEach((t, i) => { vocab[t] = i; });

const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const tokenizerJSON = {
  version: '1.0', truncation: null, padding: null,
  added_tokens: special.map((t) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
    },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
};
const tjString = JSON.stringify(tokenizerJSON);
const rt = rust.Tokenizer.fromString(tjString);
const jt = new transformersJS.BertTokenizer(tokenizerJSON, { do_lower_case: true, model_max_length: 512 });
// jsEncode runs transformers.js' BertTokenizer (__call__) and returns plain arrays.
function jsEncode(text, text_pair, max_len) {
  const opts = { return_tensor: false };
  if (text_pair !== undefined) opts.text_pair = text_pair;
  if (max_len) { opts.truncation = true; opts.max_length = max_len; }
  const e = jt(text, opts);
  return { ids: e.input_ids, type_ids: e.token_type_ids };
}
const jsTruncNote = 'transformers.js truncates by cutting the finished sequence at max_length (losing the final [SEP]) instead of HF\'s longest_first over the word pieces';

// Code-point offsets of s -> UTF-8 byte offsets.
function byteOffsets(s) {
  const out = [0];
  let b = 0;
  for (const ch of s) {
    b += Buffer.byteLength(ch, 'utf8');
    out.push(b);
  }
  return out;
}

// enc converts a Rust encoding; seqText(i) / wordText(i) give the text its offsets
// are relative to.
function conv(e, textOf) {
  const seq = e.getSequenceIds().map((x) => (x === null || x === undefined ? -1 : x));
  const tokens = e.getTokens();
  const words = e.getWordIds().map((x) => (x === null || x === undefined ? -1 : x));
  const ids = e.getIds();
  const special = e.getSpecialTokensMask();
  const offsets = e.getOffsets().map(([s, t], i) => {
    if (special[i] === 1 && seq[i] === -1) return [0, 0];
    const bo = byteOffsets(textOf(seq[i], words[i]));
    return [bo[s], bo[t]];
  });
  return { ids, tokens, type_ids: e.getTypeIds(), word_ids: words, sequence_ids: seq, offsets };
}

// Python's truncate_sequences (longest_first, right side) for a pair.
function pyTruncate(la, lb, n) {
  n = Math.max(n, 0);
  if (la + lb <= n) return [la, lb];
  const remove = la + lb - n;
  const first = Math.min(Math.abs(lb - la), remove);
  const second = remove - first;
  let ra, rb;
  if (la > lb) { ra = first + Math.floor(second / 2); rb = second - Math.floor(second / 2); }
  else { ra = Math.floor(second / 2); rb = first + second - Math.floor(second / 2); }
  return [Math.max(0, la - ra), Math.max(0, lb - rb)];
}

// Keep the first na tokens of sequence 0 and nb of sequence 1 of a full encoding.
function cutPair(full, na, nb) {
  const keep = [];
  let ca = 0, cb = 0;
  full.sequence_ids.forEach((s, i) => {
    if (s === 0) { if (ca++ < na) keep.push(i); }
    else if (s === 1) { if (cb++ < nb) keep.push(i); }
    else keep.push(i);
  });
  const pick = (a) => keep.map((i) => a[i]);
  return { ids: pick(full.ids), tokens: pick(full.tokens), type_ids: pick(full.type_ids), word_ids: pick(full.word_ids), sequence_ids: pick(full.sequence_ids), offsets: pick(full.offsets) };
}

// encodeWords is Rust's pre-tokenized encoding (is_split_into_words=True). The Node
// bindings of tokenizers 0.23.2 accept only strings, so it is rebuilt the way
// TokenizerImpl::encode_single_sequence does it for InputSequence::PreTokenized: each
// word is encoded on its own with its index as word id and offsets relative to the
// word, the encodings merged, then the post-processor adds [CLS] and [SEP].
async function encodeWords(words) {
  const r = { ids: [vocab['[CLS]']], tokens: ['[CLS]'], type_ids: [0], word_ids: [-1], sequence_ids: [-1], offsets: [[0, 0]] };
  for (let w = 0; w < words.length; w++) {
    const e = conv(await rt.encode(words[w], null, { addSpecialTokens: false }), () => words[w]);
    r.ids.push(...e.ids); r.tokens.push(...e.tokens); r.type_ids.push(...e.type_ids);
    r.word_ids.push(...e.word_ids.map(() => w)); r.sequence_ids.push(...e.sequence_ids);
    r.offsets.push(...e.offsets);
  }
  r.ids.push(vocab['[SEP]']); r.tokens.push('[SEP]'); r.type_ids.push(0); r.word_ids.push(-1); r.sequence_ids.push(-1); r.offsets.push([0, 0]);
  return r;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

const S = (name, text, extra = {}) => ({ kind: 'single', name, text, ...extra });
const P = (name, text, text_pair, extra = {}) => ({ kind: 'pair', name, text, text_pair, ...extra });
const W = (name, words, extra = {}) => ({ kind: 'words', name, words, ...extra });

const cases = [
  S('simple sentence', 'Hello, world!'),
  S('pangram', 'The quick brown fox jumps over the lazy dog.'),
  S('empty', ''),
  S('whitespace only', '   '),
  S('whitespace kinds only', '\t\n\r \u00a0\u3000'),
  S('precomposed accents', 'Café crème brûlée'),
  S('combining accents', 'Cafe\u0301 cre\u0300me bru\u0302le\u0301e'),
  S('accent at word end', 'cafe\u0301 x'),
  S('lone combining mark', '\u0301'),
  S('combining mark between spaces', 'a \u0301 b'),
  S('combining mark at word start', '\u0301abc'),
  S('diaeresis and ligature letters', 'naïve résumé façade Æsir Øresund'),
  S('turkish dotted I', 'İstanbul İ ıi Iİ'),
  S('german sharp s', 'Straße STRASSE ß ẞ'),
  S('uppercase accented', 'ÀÉÎÕÜ ÅSTRÖM'),
  S('stacked vietnamese accents', 'Tiếng Việt có dấu'),
  S('polytonic greek', 'Ἀθῆναι'),
  S('greek final sigma', 'ΟΔΟΣ Σίσυφος ΣΑΣ', { js_note: 'transformers.js lower-cases the whole text with String.prototype.toLowerCase, which applies Final_Sigma (Σ -> ς at a word end); python lower-cases one character at a time (PreTrainedTokenizer.tokenize, re.sub with "(.+?)") and Rust per char, so both give σ' }),
  S('greek cyrillic', 'Ελληνικά Русский текст Українська йод'),
  S('hebrew arabic', 'עברית العربية مَرْحَبًا'),
  S('devanagari', 'हिन्दी नमस्ते'),
  S('thai', 'ภาษาไทย'),
  S('chinese', '中文字符测试'),
  S('chinese with punctuation', '我爱北京天安门。你好！'),
  S('chinese inside latin', 'Hello世界World'),
  S('cjk extension b', '𠀀𠀁 b𠀂c', { js_note: 'transformers.js tests _is_chinese_char on UTF-16 code units, so astral ideographs (CJK Extension B, U+20000..) are not split off; python (and Rust) iterate code points and split them' }),
  S('cjk compatibility ideograph', '\uf900\ufa10'),
  S('japanese kana', '日本語のテキスト、ひらがなとカタカナ'),
  S('halfwidth fullwidth', 'ｶﾀｶﾅ ＡＢＣ１２３'),
  S('korean', '한국어 텍스트입니다'),
  S('punctuation runs', '!!!???...,,,;;;'),
  S('punctuation glued', 'Hello!!!World???'),
  S('ascii symbols', '$^`+=<>|~ a+b=c'),
  S('unicode symbols', '©®™§¶†‡• ½ ¼ 10°C'),
  S('quotes', '¿Qué? ¡Olé! «quotes» „German“ ‘single’ “double”'),
  S('dashes ellipsis', 'a—b–c…d'),
  S('numbers with separators', '1,234,567.89 3.14 1e-10 $100 50% 2024-01-01 12:30'),
  S('email url', 'e-mail user@example.com https://example.com/path?q=1&r=2#frag'),
  S('apostrophes', "don't can't it's Dr. Smith's 3rd-quarter (Q3) +5.2% vs. -1.1%."),
  S('programming names', 'C++ C# F# .NET node.js'),
  S('emoji', '😀 👍 🎉🎉'),
  S('emoji skin tone and zwj', '👍🏽 👨‍👩‍👧‍👦 ❤️ 🏳️‍🌈'),
  S('control chars', 'a\u0000b\u0001c\u007fd e\u001bf'),
  S('tabs newlines', 'tab\there\nnewline\r\nCRLF\rCR'),
  S('vertical tab form feed', 'a\u000bb\u000cc'),
  S('next line', '\u0085next\u0085line'),
  S('unicode spaces', 'non\u00a0breaking\u2009thin\u3000ideographic\u202fnarrow\u2003em'),
  S('line paragraph separators', 'x\u2028y\u2029z'),
  S('replacement char', 'bad\ufffdchar \ufffd'),
  S('format chars', '\u200b zero\u200bwidth \ufeffBOM soft\u00adhyphen x\u200dy'),
  S('private use', '\ue000abc\uf8ff'),
  S('unassigned code point', 'a\u0378b', {
    python: () => ({ ids: [vocab['[CLS]'], vocab['ab'], vocab['[SEP]']], tokens: ['[CLS]', 'ab', '[SEP]'], type_ids: [0, 0, 0], word_ids: [-1, 0, -1], sequence_ids: [-1, 0, -1], offsets: [[0, 0], [0, 4], [0, 0]] }),
    note: 'U+0378 is unassigned (category Cn). python _is_control drops it (unicodedata.category starts with "C"), so the word is "ab"; Rust (BertNormalizer is_control) and transformers.js (\\p{Cc}|\\p{Cf}|\\p{Co}|\\p{Cs}) keep it and give [UNK]. Expected follows python; "rust" has the Rust result.',
    js_note: 'see note: transformers.js keeps unassigned code points',
  }),
  S('letterlike singletons', '\u2126 \u212b \u212a'),
  S('ligatures no nfkc', 'ﬁnance ﬂow'),
  S('compatibility characters', 'Ⅻ ① ² ŉ'),
  S('titlecase digraphs', 'Ǆ ǅ ǆ ǰ'),
  S('math alphanumerics', '𝐀𝐁𝐂 𝒳'),
  S('rare letter', 'ꙮ'),
  S('word of 100 chars', 'a'.repeat(100)),
  S('word of 101 chars', 'a'.repeat(101)),
  S('100 accented chars', 'é'.repeat(100)),
  S('100 chars after stripping', 'e\u0301'.repeat(100), { note: 'the 200 code points become 100 after stripping accents; the limit is counted after normalisation' }),
  S('long word in sentence', 'short ' + 'x'.repeat(150) + ' words'),
  S('long real word', 'supercalifragilisticexpialidocious'),
  S('unaffable', 'unaffable'),
  S('alnum mix', 'ABC123def456 COVID-19 mp3 3D'),
  S('leading trailing spaces', '   leading and trailing   '),
  S('many spaces and tabs', 'multiple     spaces\t\t\ttabs'),
  S('literal special tokens', '[CLS] hello [SEP] world [MASK] [UNK] [PAD]'),
  S('special tokens glued', 'hello[SEP]world[MASK].'),
  S('special tokens lower case are text', '[cls] [Sep] [MASK'),
  S('mixed everything', 'Über-cool™ naïve café 東京 (Tōkyō) costs ¥1,000 — “wow”!'),

  P('pair simple', 'Hello there.', 'How are you?'),
  P('pair empty second', 'The cat sat on the mat.', '', { js_note: 'transformers.js treats an empty text_pair as no pair (a falsy check); python checks text_pair is not None and builds [CLS] a [SEP] [SEP], as Rust does' }),
  P('pair empty first', '', 'only second'),
  P('pair unicode', 'Café 中文', 'naïve 한국어'),
  P('pair literal special', 'a [SEP] b', '[CLS] c'),

  S('single truncated', 'The quick brown fox jumps over the lazy dog and keeps running far away.', { max_len: 16 }),
  S('single truncated tiny', 'one two three', { max_len: 3 }),
  S('single not truncated at limit', 'one two three', { max_len: 5 }),
  P('truncate long first', 'The quick brown fox jumps over the lazy dog and keeps on running.', 'Short one.', { max_len: 16 }),
  P('truncate long second', 'Short one.', 'The quick brown fox jumps over the lazy dog and keeps on running.', { max_len: 16 }),
  P('truncate equal lengths', 'one two three four five six seven eight nine ten', 'a b c d e f g h i j', { max_len: 16 }),
  P('truncate first longer by two', 'one two three four five six seven eight nine ten eleven twelve', 'a b c d e f g h i j', { max_len: 16 }),
  P('truncate second longer by two', 'one two three four five six seven eight nine ten', 'a b c d e f g h i j k l', { max_len: 16 }),
  P('truncate even budget', 'one two three four five six seven eight nine ten', 'a b c d e f g h i j', { max_len: 17 }),
  P('truncate both very long', 'word '.repeat(30), 'other '.repeat(40), { max_len: 16 }),
  P('truncate not needed', 'a b', 'c d', { max_len: 16 }),
  P('truncate subwords', 'unaffable supercalifragilisticexpialidocious', 'antidisestablishmentarianism tokenization', { max_len: 16 }),

  W('news-style words', ['UN', 'praises', 'Dutch', 'plan', 'to', 'protect', 'Welsh', 'sheep', '.']),
  W('words splitting further', ['U.S.', "don't", 'naïve', 'Straße', '中文', '😀', 'e-mail']),
  W('empty and blank words', ['a', '', ' ', '\u200b', 'b', '\t']),
  W('words with special token', ['[SEP]', 'x[MASK]y']),
  W('words truncated', ['Peter', 'Blackburn', 'said', 'the', 'supercalifragilisticexpialidocious', 'committee', 'met', 'on', 'Tuesday', 'in', 'Brussels', 'again'], { max_len: 16 }),
];

const out = [];
let jsDisagree = 0, rustDiffers = 0;
for (const c of cases) {
  const rec = { ...c };
  let full, expected, rustRes, js;
  if (c.kind === 'single') {
    full = conv(await rt.encode(c.text), () => c.text);
    if (c.python) {
      rec.rust = full;
      full = c.python();
      delete rec.python;
      rustDiffers++;
    }
    expected = full;
    if (c.max_len) {
      rt.setTruncation(c.max_len, { strategy: 'LongestFirst' });
      rustRes = conv(await rt.encode(c.text), () => c.text);
      rt.disableTruncation();
      expected = cutPair(full, Math.max(0, c.max_len - 2), 0);
      if (!same(expected, rustRes)) throw new Error(`single truncation differs for ${c.name}`);
    }
    js = { tokens: jt.tokenize(c.text), ...jsEncode(c.text, undefined, c.max_len) };
  } else if (c.kind === 'pair') {
    const texts = [c.text, c.text_pair];
    full = conv(await rt.encode(c.text, c.text_pair), (s) => texts[s]);
    expected = full;
    if (c.max_len) {
      rt.setTruncation(c.max_len, { strategy: 'LongestFirst' });
      rustRes = conv(await rt.encode(c.text, c.text_pair), (s) => texts[s]);
      rt.disableTruncation();
      const la = full.sequence_ids.filter((s) => s === 0).length;
      const lb = full.sequence_ids.filter((s) => s === 1).length;
      const [na, nb] = pyTruncate(la, lb, c.max_len - 3);
      expected = cutPair(full, na, nb);
      rec.untruncated_lengths = [la, lb];
      if (!same(expected, rustRes)) {
        rec.rust = rustRes;
        rec.note = 'Rust truncate_encodings gives the odd token to the longer sequence (the second on a tie); python truncate_sequences to the first. Expected follows python.';
        rustDiffers++;
      }
    }
    js = { tokens: jt.tokenize(c.text).concat(jt.tokenize(c.text_pair)), ...jsEncode(c.text, c.text_pair, c.max_len) };
  } else {
    full = await encodeWords(c.words);
    expected = full;
    if (c.max_len) expected = cutPair(full, Math.max(0, c.max_len - 2), 0);
    // transformers.js has no pre-tokenized input: tokenize word by word, as python's
    // is_split_into_words does.
    js = { tokens: c.words.flatMap((w) => jt.tokenize(w)) };
  }
  // Compare transformers.js with the expected values.
  const words = full.tokens.filter((_, i) => full.sequence_ids[i] >= 0);
  const diffs = [];
  if (!same(js.tokens, words)) diffs.push('tokens');
  if (js.ids && !same(js.ids, expected.ids)) diffs.push('ids');
  if (js.type_ids && !same(js.type_ids, expected.type_ids)) diffs.push('type_ids');
  if (diffs.length > 0) {
    jsDisagree++;
    rec.js = js;
    const onlyTrunc = c.max_len && same(js.tokens, words);
    if (onlyTrunc && !rec.js_note) rec.js_note = jsTruncNote;
    if (!rec.js_note) {
      throw new Error(`transformers.js disagrees on ${c.name} (${diffs}) without a documented reason: ${JSON.stringify(js)} vs ${JSON.stringify(expected)}`);
    }
  } else {
    delete rec.js_note;
  }
  rec.expected = expected;
  rec.truncated = full.ids.length - expected.ids.length;
  out.push(rec);
}

const doc = {
  generator: 'aptlib/wordpiece/testdata/gen_golden.mjs',
  references: {
    rust: 'npm tokenizers@0.23.2 (HuggingFace tokenizers, Rust, via Node bindings)',
    js: 'npm @huggingface/transformers@4.3.2 (@huggingface/tokenizers@0.2.0)',
    node_unicode: process.versions.unicode,
  },
  vocab_sha256: crypto.createHash('sha256').update(vocabBytes).digest('hex'),
  offsets: 'UTF-8 byte offsets into the text of the token\'s sequence (words: into its word); [0,0] for added special tokens',
  cases: out,
};
// One case per line, so that a regenerated file diffs case by case.
const { cases: all, ...head } = doc;
const headJSON = JSON.stringify(head, null, 1);
fs.writeFileSync(outPath, headJSON.slice(0, -2) + ',\n "cases": [\n' + all.map((c) => '  ' + JSON.stringify(c)).join(',\n') + '\n ]\n}\n');
console.error(`${out.length} cases; transformers.js disagrees on ${jsDisagree}; Rust differs from python on ${rustDiffers}`);
