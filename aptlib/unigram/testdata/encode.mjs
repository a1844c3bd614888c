// encode.mjs prints, as JSON, the ids HF tokenizers gives for each text of a
// JSON list, with specials: node encode.mjs TOKENIZER.json INPUTS.json.
// golden_test.go's TestRandomTextsAgainstHF runs it on random texts when UNIREF
// names the directory holding node_modules/tokenizers (see gen_golden.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.env.UNIREF || '/tmp/uniref', 'package.json'));
const { Tokenizer } = require('tokenizers');
const [tjPath, inPath] = process.argv.slice(2);
const tk = Tokenizer.fromFile(tjPath);
const out = [];
for (const t of JSON.parse(fs.readFileSync(inPath, 'utf8'))) {
  out.push((await tk.encode(t)).getIds());
}
process.stdout.write(JSON.stringify(out));
