// encode.mjs prints, as JSON, how HuggingFace tokenizers (the Rust library,
// through the npm package "tokenizers" 0.23.2) encodes a list of cases with a
// byte-level BPE tokenizer.json: the golden values golden_test.go checks the Go
// tokenizer against.
//
//   BPEREF=/tmp/npm-bpe node encode.mjs TOKENIZER_DIR CASES.json > GOLDEN.json
//
// BPEREF is the directory holding node_modules (see gen_vocab.mjs). A case is
// {kind, name, text, text_pair, words, max_len, prefix_space}:
//   - "split": the ByteLevel pre-tokenizer's pieces of text (GPT-2 regex and the
//     byte-to-unicode map, no added tokens);
//   - "single", "pair": encode(text[, text_pair]) with the post-processor's
//     specials; prefix_space true runs the tokenizer with the ByteLevel
//     pre-tokenizer's add_prefix_space set (as from_pretrained(...,
//     add_prefix_space=True) does);
//   - "words": encode(words, {isPretokenized}) with add_prefix_space set, as
//     P-Tuning v2 loads RoBERTa/DeBERTa tokenizers for NER and as HF requires for
//     is_split_into_words; first_sub[i] is the position of word i's first token.
// Truncation to max_len (0: none) is transformers' python rule, applied here to the
// untruncated Rust encodings of each sequence before the post-processor: a single
// sequence (and a word list) loses its last tokens; a pair follows
// truncate_sequences 'longest_first' (one token at a time from the longer
// sequence, from the second on a tie). Rust's own truncation gives the odd token of
// a pair to the other sequence; where it differs its ids are kept as "rust_ids".
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const refDir = process.env.BPEREF || '/tmp/npm-bpe';
const require = createRequire(path.join(refDir, 'package.json'));
const tk = require('tokenizers');

const [dir, casesPath] = process.argv.slice(2);
if (!dir || !casesPath) {
  console.error('usage: encode.mjs TOKENIZER_DIR CASES.json');
  process.exit(2);
}
const tjText = fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8');
function variant(prefixSpace) {
  const tj = JSON.parse(tjText);
  tj.pre_tokenizer.add_prefix_space = prefixSpace;
  if (tj.post_processor && tj.post_processor.type === 'RobertaProcessing') tj.post_processor.add_prefix_space = prefixSpace;
  return tk.Tokenizer.fromString(JSON.stringify(tj));
}
const plain = variant(false);
const spaced = variant(true);
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
const pre = tk.byteLevelPreTokenizer(false, true);

function cut(enc, n) {
  // Keep the first n tokens (the binding's default direction is not Right).
  if (enc.getLength() > n) enc.truncate(Math.max(n, 0), 0, 'right');
  return enc;
}
// nSpecials returns how many tokens the post-processor adds to one or two sequences.
async function nSpecials(t, pair) {
  const a = await t.encode('', pair ? '' : null, { addSpecialTokens: true });
  return a.getLength();
}
function record(t, enc) {
  const ids = enc.getIds();
  return { ids, tokens: ids.map((id) => t.idToToken(id)), type_ids: enc.getTypeIds() };
}

const out = [];
for (const c of cases) {
  const rec = { ...c };
  const t = c.kind === 'words' || c.prefix_space ? spaced : plain;
  const maxLen = c.max_len || 0;
  if (c.kind === 'split') {
    rec.pieces = pre.preTokenizeString(c.text).map((p) => p[0]);
  } else if (c.kind === 'single') {
    const full = await t.encode(c.text, null, { addSpecialTokens: false });
    const n = full.getLength();
    const a = maxLen > 0 ? cut(full, maxLen - await nSpecials(t, false)) : full;
    Object.assign(rec, record(t, t.postProcess(a, null, true)));
    rec.truncated = n - a.getLength();
  } else if (c.kind === 'pair') {
    const ea = await t.encode(c.text, null, { addSpecialTokens: false });
    const eb = await t.encode(c.text_pair, null, { addSpecialTokens: false });
    let la = ea.getLength(); let lb = eb.getLength();
    const n0 = la + lb;
    if (maxLen > 0) {
      let remove = la + lb - (maxLen - await nSpecials(t, true));
      for (; remove > 0; remove--) {
        if (la > lb) la--; else if (lb > 0) lb--; else if (la > 0) la--;
      }
      cut(ea, la); cut(eb, lb);
    }
    Object.assign(rec, record(t, t.postProcess(ea, eb, true)));
    rec.truncated = n0 - la - lb;
    const untrunc = await t.encode(c.text, c.text_pair);
    if (maxLen > 0 && untrunc.getLength() > maxLen) {
      const rt = tk.Tokenizer.fromString(JSON.stringify({ ...JSON.parse(tjText), truncation: { direction: 'Right', max_length: maxLen, strategy: 'LongestFirst', stride: 0 } }));
      const r = await rt.encode(c.text, c.text_pair);
      if (JSON.stringify(r.getIds()) !== JSON.stringify(rec.ids)) rec.rust_ids = r.getIds();
    } else if (JSON.stringify(untrunc.getIds()) !== JSON.stringify(rec.ids)) {
      throw new Error(`${c.name}: encode of the pair differs from its sequences post-processed`);
    }
  } else if (c.kind === 'words') {
    // The node binding takes no pre-tokenized input: encode each word on its own
    // and concatenate, which is what the Rust Tokenizer does with
    // InputSequence::PreTokenized (one encode per word, word index = its position,
    // Encoding::merge), and how P-Tuning v2's NER dataset aligns its labels.
    const ids = []; const wids = [];
    for (let i = 0; i < c.words.length; i++) {
      const e = await t.encode(c.words[i], null, { addSpecialTokens: false });
      for (const id of e.getIds()) { ids.push(id); wids.push(i); }
    }
    const keep = maxLen > 0 ? Math.max(0, Math.min(ids.length, maxLen - await nSpecials(t, false))) : ids.length;
    const seq = await t.encode("x", null, { addSpecialTokens: false });
    const enc = t.postProcess(seq, null, true);
    const tpl = enc.getIds(); const body = seq.getIds().length;
    // The post-processor's template around a sequence of the kept length.
    const head = tpl.slice(0, tpl.indexOf(seq.getIds()[0]));
    const tail = tpl.slice(head.length + body);
    const all = [...head, ...ids.slice(0, keep), ...tail];
    rec.ids = all;
    rec.tokens = all.map((id) => t.idToToken(id));
    rec.type_ids = all.map(() => 0);
    rec.first_sub = c.words.map((_, i) => { const k = wids.findIndex((w) => w === i); return k >= 0 && k < keep ? k + head.length : -1; });
    rec.truncated = ids.length - keep;
  } else {
    throw new Error(`unknown kind ${c.kind}`);
  }
  out.push(rec);
}
process.stdout.write(JSON.stringify({ reference: 'tokenizers (npm) 0.23.2', cases: out }, null, 1) + '\n');
