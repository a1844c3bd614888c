// gen_vocab.mjs builds the two small byte-level BPE vocabularies the tests use,
// in the layouts the Hub serves (written under roberta/ and deberta/ next to
// this script):
//   roberta/: tokenizer.json (model BPE, pre_tokenizer ByteLevel add_prefix_space
//             false, post_processor RobertaProcessing), vocab.json, merges.txt,
//             special_tokens_map.json, tokenizer_config.json. Ids as roberta-base:
//             <s>0 <pad>1 </s>2 <unk>3, the 256 byte characters, the merges in
//             order, <mask> last (lstrip), and three non-special added tokens
//             that are not in vocab.json (listed in tokenizer_config.json's
//             added_tokens_decoder too): "<ent>" (rstrip), "x<e" (normalized
//             true: matched after the others, in the text between them) and
//             "<w>" (single_word).
//   deberta/: the same merges with DeBERTa v1's ids: [PAD]0 [CLS]1 [SEP]2
//             [UNK]3, the other tokens in a fixed shuffled order (as the fairseq
//             dictionary order of microsoft/deberta-base is not the merge order),
//             [MASK] last (lstrip); tokenizer.json with DebertaConverter's
//             TemplateProcessing ([CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1),
//             vocab.json, merges.txt, tokenizer_config.json.
//
// The merges are learnt by a plain BPE trainer written here (most frequent adjacent
// pair, ties by the smaller pair string, minimum count 2) over a corpus of a few
// hundred generated lines mixing English with contractions, digits, accents, CJK,
// emoji, tabs and newlines. The words are cut by the Rust ByteLevel pre-tokenizer of
// the npm package "tokenizers" (HF tokenizers 0.23.2), so the merges are over its
// byte characters. Run (node 20):
//   mkdir -p /tmp/npm-bpe && cd /tmp/npm-bpe && npm init -y >/dev/null && npm install --ignore-scripts tokenizers@0.23.2
//   cd <repo>/aptlib/bpe/testdata && BPEREF=/tmp/npm-bpe node gen_vocab.mjs [OUTDIR]
// (OUTDIR defaults to this directory; golden_test.go regenerates into a temporary
// one and compares.) Then regenerate the goldens with encode.mjs:
//   for l in roberta deberta; do BPEREF=/tmp/npm-bpe node encode.mjs $l cases.json > golden_$l.json; done
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = process.argv[2] || path.dirname(fileURLToPath(import.meta.url)); // output directory
const refDir = process.env.BPEREF || '/tmp/npm-bpe';
const require = createRequire(path.join(refDir, 'package.json'));
const tk = require('tokenizers');

// A small deterministic PRNG (mulberry32), so that the corpus and the DeBERTa id
// order are the same on every run.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(12);
const pick = (a) => a[Math.floor(rand() * a.length)];

const subjects = ['the cat', 'a dog', 'my friend', 'the teacher', 'our neighbour', 'the old man', 'she', 'he', 'they', 'we', 'I', 'you', 'the committee', 'Peter', 'Maria', 'the children'];
const verbs = ['sat on', 'looked at', 'walked to', 'talked about', 'played with', 'thought of', 'jumped over', 'wrote to', 'visited', 'liked', 'found', 'painted'];
const objects = ['the mat', 'the house', 'the river', 'a small garden', 'the station', 'their school', 'the market', 'the mountains', 'a letter', 'the results', 'the weather', 'the new bridge'];
const tails = ['yesterday', 'today', 'again', 'in the morning', 'at night', 'last week', 'on Tuesday', 'in Brussels', 'in Zürich', 'near São Paulo', 'after lunch', 'before the storm'];
const contractions = ["don't", "can't", "it's", "I'm", "we're", "they've", "you'll", "she'd", "isn't", "that's", "I've", "we'll"];
const accented = ['café', 'naïve', 'résumé', 'façade', 'crème brûlée', 'Ångström', 'niño', 'déjà vu', 'über', 'Mañana', 'coöperate', 'élève'];
const cjk = ['中文', '日本語', '한국어', '北京', '東京', '你好世界', 'こんにちは', '漢字', '学生', '大学'];
const emoji = ['😀', '👍', '👍🏽', '🇫🇷', '❤️', '🎉', '🐍', '🚀'];
const numbers = ['2024', '3.14', '1,000', '42', '7', '100', '12:30', '1999', '0.5', '365'];

const lines = [];
for (let i = 0; i < 360; i++) {
  let s = `${pick(subjects)} ${pick(verbs)} ${pick(objects)} ${pick(tails)}`;
  if (rand() < 0.5) s = s[0].toUpperCase() + s.slice(1);
  const r = rand();
  if (r < 0.15) s += `, ${pick(contractions)} it?`;
  else if (r < 0.3) s += ` with ${pick(accented)}.`;
  else if (r < 0.4) s += ` ${pick(cjk)}${pick(cjk)}。`;
  else if (r < 0.5) s += ` ${pick(emoji)}!`;
  else if (r < 0.65) s += ` at ${pick(numbers)} or ${pick(numbers)}.`;
  else if (r < 0.75) s = `${pick(contractions)} ${s}\t${pick(numbers)}`;
  else if (r < 0.8) s += '\n  indented\tline';
  else s += '.';
  lines.push(s);
}

// Count the words (byte-level pieces) of the corpus.
const pre = tk.byteLevelPreTokenizer(false, true);
const counts = new Map();
for (const line of lines) {
  for (const [w] of pre.preTokenizeString(line)) counts.set(w, (counts.get(w) || 0) + 1);
}
const words = [...counts.entries()].map(([w, c]) => ({ syms: [...w], c }));

// Train the merges.
const alphabet = [...tk.byteLevelAlphabet()].sort();
const merges = [];
const nMerges = 420;
while (merges.length < nMerges) {
  const pairs = new Map();
  for (const w of words) {
    for (let i = 0; i + 1 < w.syms.length; i++) {
      const k = w.syms[i] + ' ' + w.syms[i + 1];
      pairs.set(k, (pairs.get(k) || 0) + w.c);
    }
  }
  let best = null; let bestC = 1;
  for (const [k, c] of pairs) {
    if (c > bestC || (c === bestC && best !== null && k < best)) { best = k; bestC = c; }
  }
  if (best === null) break;
  const [a, b] = best.split(' ');
  merges.push([a, b]);
  for (const w of words) {
    const out = [];
    for (let i = 0; i < w.syms.length; i++) {
      if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) { out.push(a + b); i++; } else out.push(w.syms[i]);
    }
    w.syms = out;
  }
}
const merged = [];
const seen = new Set(alphabet);
for (const [a, b] of merges) {
  if (!seen.has(a + b)) { seen.add(a + b); merged.push(a + b); }
}

function addedToken(id, content, special, opts = {}) {
  return { id, content, single_word: false, lstrip: !!opts.lstrip, rstrip: !!opts.rstrip, normalized: !!opts.normalized, special };
}
function write(dir, name, obj) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), typeof obj === 'string' ? obj : JSON.stringify(obj, null, 1) + '\n');
}
const mergesTxt = '#version: 0.2\n' + merges.map(([a, b]) => `${a} ${b}`).join('\n') + '\n';
const bpeModel = (vocab, unk) => ({
  type: 'BPE', dropout: null, unk_token: unk, continuing_subword_prefix: '', end_of_word_suffix: '',
  fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
});

// RoBERTa layout.
{
  const dir = path.join(here, 'roberta');
  const vocab = {};
  for (const t of ['<s>', '<pad>', '</s>', '<unk>', ...alphabet, ...merged, '<mask>']) vocab[t] = Object.keys(vocab).length;
  const n = Object.keys(vocab).length;
  const added = [
    addedToken(0, '<s>', true, { normalized: true }), addedToken(1, '<pad>', true, { normalized: true }),
    addedToken(2, '</s>', true, { normalized: true }), addedToken(3, '<unk>', true, { normalized: true }),
    addedToken(n - 1, '<mask>', true, { lstrip: true }), addedToken(n, '<ent>', false, { rstrip: true }),
    addedToken(n + 1, 'x<e', false, { normalized: true }), { ...addedToken(n + 2, '<w>', false), single_word: true },
  ];
  write(dir, 'tokenizer.json', {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: bpeModel(vocab, null),
  });
  write(dir, 'vocab.json', vocab);
  write(dir, 'merges.txt', mergesTxt);
  write(dir, 'special_tokens_map.json', {
    bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', sep_token: '</s>', pad_token: '<pad>', cls_token: '<s>',
    mask_token: { content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false },
  });
  write(dir, 'tokenizer_config.json', {
    add_prefix_space: false, errors: 'replace', model_max_length: 512, tokenizer_class: 'RobertaTokenizer',
    added_tokens_decoder: {
      [String(n)]: { content: '<ent>', single_word: false, lstrip: false, rstrip: true, normalized: false, special: false },
      [String(n + 1)]: { content: 'x<e', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
      [String(n + 2)]: { content: '<w>', single_word: true, lstrip: false, rstrip: false, normalized: false, special: false },
    },
  });
}

// DeBERTa v1 layout.
{
  const dir = path.join(here, 'deberta');
  const body = [...alphabet, ...merged];
  for (let i = body.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [body[i], body[j]] = [body[j], body[i]]; }
  const vocab = {};
  for (const t of ['[PAD]', '[CLS]', '[SEP]', '[UNK]', ...body, '[MASK]']) vocab[t] = Object.keys(vocab).length;
  const n = Object.keys(vocab).length;
  const added = [
    addedToken(0, '[PAD]', true), addedToken(1, '[CLS]', true), addedToken(2, '[SEP]', true), addedToken(3, '[UNK]', true),
    addedToken(n - 1, '[MASK]', true, { lstrip: true }),
  ];
  const S = (id, type_id) => ({ SpecialToken: { id, type_id } });
  const Q = (id, type_id) => ({ Sequence: { id, type_id } });
  write(dir, 'tokenizer.json', {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [S('[CLS]', 0), Q('A', 0), S('[SEP]', 0)],
      pair: [S('[CLS]', 0), Q('A', 0), S('[SEP]', 0), Q('B', 1), S('[SEP]', 1)],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: bpeModel(vocab, '[UNK]'),
  });
  write(dir, 'vocab.json', vocab);
  write(dir, 'merges.txt', mergesTxt);
  write(dir, 'tokenizer_config.json', { do_lower_case: false, vocab_type: 'gpt2' });
}
console.error(`${lines.length} lines, ${counts.size} distinct words, ${merges.length} merges, ${merged.length} new tokens`);
