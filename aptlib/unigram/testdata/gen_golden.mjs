// gen_golden.mjs writes golden.json, the reference encodings that golden_test.go
// checks the Go tokenizer against, for the test models of this directory
// (deberta/, variant/, lowerpunct/ and real/tokenizer.json, written by
// fixture_test.go; real/spm.model is trained by real/make_spm.sh) and
// the inputs of cases.json.
//
// References:
//   - npm "tokenizers" 0.23.2: HuggingFace's Rust tokenizers (what
//     DebertaV2TokenizerFast runs), through its Node bindings: ids, tokens, type
//     ids and word ids of every case, for both tokenizer.json files.
//   - npm "@agnai/sentencepiece-js" 1.1.1: Google's SentencePiece (C++, in wasm), on
//     deberta/spm.model and real/spm.model: the ids of each single text without specials, recorded
//     under "spm" as the slow DebertaV2Tokenizer would see them (sp.encode). They are
//     informational: golden_test.go reports where they differ from the fast
//     tokenizer, which the workbench follows.
//
// Pre-split words: the Node bindings take only strings, so is_split_into_words is
// rebuilt as tokenizers' encode_single_sequence does it for
// InputSequence::PreTokenized: each word encoded on its own (its whole pipeline:
// added tokens, normalizer, pre-tokenizer, model) with its index as word id, the
// pieces concatenated, then [CLS] ... [SEP] around them.
//
// Run it with the reference packages installed outside the repository (the npm
// registry is the only network access needed):
//   mkdir -p /tmp/uniref && cd /tmp/uniref && npm init -y >/dev/null
//   npm install tokenizers@0.23.2 @agnai/sentencepiece-js@1.1.1
//   cd <repo>/aptlib/unigram/testdata && UNIREF=/tmp/uniref node gen_golden.mjs golden.json
// (node 20; UNIREF is the directory holding node_modules, default /tmp/uniref.)
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const refDir = process.env.UNIREF || '/tmp/uniref';
const require = createRequire(path.join(refDir, 'package.json'));
const { Tokenizer } = require('tokenizers');
let spmLib = null;
try {
  spmLib = require('@agnai/sentencepiece-js');
} catch (e) {
  console.error('note: @agnai/sentencepiece-js not installed, no "spm" ids');
}

const outPath = process.argv[2];
if (!outPath) {
  console.error('usage: gen_golden.mjs OUT.json');
  process.exit(2);
}
const here = path.dirname(new URL(import.meta.url).pathname);
const cases = JSON.parse(fs.readFileSync(path.join(here, 'cases.json'), 'utf8'));
const sha = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');

const ids0 = (e) => ({
  ids: e.getIds(),
  tokens: e.getTokens(),
  type_ids: e.getTypeIds(),
  word_ids: e.getWordIds().map((x) => (x === null || x === undefined ? -1 : x)),
});

async function encodeWords(tk, words) {
  const cls = tk.tokenToId('[CLS]');
  const sep = tk.tokenToId('[SEP]');
  const r = { ids: [cls], tokens: ['[CLS]'], type_ids: [0], word_ids: [-1] };
  for (let w = 0; w < words.length; w++) {
    const e = await tk.encode(words[w], null, { addSpecialTokens: false });
    r.ids.push(...e.getIds());
    r.tokens.push(...e.getTokens());
    r.type_ids.push(...e.getTypeIds());
    r.word_ids.push(...e.getIds().map(() => w));
  }
  r.ids.push(sep); r.tokens.push('[SEP]'); r.type_ids.push(0); r.word_ids.push(-1);
  return r;
}

// The models with an spm.model whose SentencePiece ids are recorded.
const spmModels = ['deberta', 'real'];
const spps = {};
if (spmLib) {
  for (const m of spmModels) {
    spps[m] = new spmLib.SentencePieceProcessor();
    await spps[m].load(path.join(here, m, 'spm.model'));
  }
}

const out = { generator: 'aptlib/unigram/testdata/gen_golden.mjs', tokenizers: '0.23.2', models: {} };
for (const model of ['deberta', 'variant', 'lowerpunct', 'real']) {
  const file = path.join(here, model, 'tokenizer.json');
  const tk = Tokenizer.fromFile(file);
  const res = [];
  for (const c of cases) {
    let enc;
    if (c.words) {
      enc = await encodeWords(tk, c.words);
    } else if (c.pair !== undefined) {
      enc = ids0(await tk.encode(c.text, c.pair));
    } else {
      enc = ids0(await tk.encode(c.text));
    }
    const r = { name: c.name, ...enc };
    if (spps[model] && c.text !== undefined && c.pair === undefined) {
      r.spm = spps[model].encodeIds(c.text);
    }
    res.push(r);
  }
  out.models[model] = { tokenizer_json_sha256: sha(file), vocab_size: tk.getVocabSize(true), cases: res };
}
for (const m of spmModels) {
  out.models[m].spm_model_sha256 = sha(path.join(here, m, 'spm.model'));
}
// One case per line, so that a change shows as a change of that case.
const lines = ['{', ` "generator": ${JSON.stringify(out.generator)},`, ` "tokenizers": ${JSON.stringify(out.tokenizers)},`, ' "models": {'];
const names = Object.keys(out.models);
names.forEach((m, k) => {
  const { cases: cs, ...head } = out.models[m];
  lines.push(`  ${JSON.stringify(m)}: {`);
  for (const [key, v] of Object.entries(head)) lines.push(`   ${JSON.stringify(key)}: ${JSON.stringify(v)},`);
  lines.push('   "cases": [');
  cs.forEach((c, i) => lines.push('    ' + JSON.stringify(c) + (i + 1 < cs.length ? ',' : '')));
  lines.push('   ]');
  lines.push('  }' + (k + 1 < names.length ? ',' : ''));
});
lines.push(' }', '}');
fs.writeFileSync(outPath, lines.join('\n') + '\n');
