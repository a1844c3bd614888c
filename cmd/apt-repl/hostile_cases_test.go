package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileCases is the table of TestHostileInputs, by area: model files,
// tokenizer files, adapters, task files, predict input, settings, saves and
// shell scripts. The key words are what a user needs to act: the file, line,
// tensor or setting, and what was expected.
func hostileCases() []hostileCase {
	var cs []hostileCase
	add := func(c ...hostileCase) { cs = append(cs, c...) }
	loadM := "load model {M}\n"

	// ---- model files
	add(
		hostileCase{name: "model/config-not-json", setup: func(t *testing.T, d string) { write(t, filepath.Join(d, "m/config.json"), "{ not json") },
			script: loadM, code: 1, line: 1, want: []string{`config\.json`}},
		hostileCase{name: "model/config-missing", setup: func(t *testing.T, d string) { os.Remove(filepath.Join(d, "m/config.json")) },
			script: loadM, code: 1, line: 1, want: []string{`config\.json`}},
		hostileCase{name: "model/config-endless", setup: func(t *testing.T, d string) { symlink(t, "/dev/zero", filepath.Join(d, "m/config.json")) },
			script: loadM, code: 1, line: 1, want: []string{`config\.json`}},
		hostileCase{name: "model/config-huge", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "m/config.json"), `{"_pad": "`+strings.Repeat("x", 3<<20)+`"}`)
		}, script: loadM, code: 1, line: 1, want: []string{`config\.json`}},
		hostileCase{name: "model/heads-do-not-divide", setup: func(t *testing.T, d string) { editConfig(t, d, `"num_attention_heads": 4`, `"num_attention_heads": 5`) },
			script: loadM, code: 1, line: 1, want: []string{`num_attention_heads|hidden_size`}},
		hostileCase{name: "model/negative-layers", setup: func(t *testing.T, d string) { editConfig(t, d, `"num_hidden_layers": 4`, `"num_hidden_layers": -4`) },
			script: loadM, code: 1, line: 1, want: []string{`num_hidden_layers`}},
		hostileCase{name: "model/weights-missing", setup: func(t *testing.T, d string) { os.Remove(filepath.Join(d, "m/model.safetensors")) },
			script: loadM, code: 1, line: 1, want: []string{`safetensors`}},
		hostileCase{name: "model/weights-truncated", setup: func(t *testing.T, d string) {
			p := filepath.Join(d, "m/model.safetensors")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, script: loadM, code: 1, line: 1, want: []string{`model\.safetensors`}},
		hostileCase{name: "model/weights-wrong-shape", setup: func(t *testing.T, d string) {
			editTensors(t, filepath.Join(d, "m/model.safetensors"), func(n string, x []float32, s []int) ([]float32, []int) {
				if n == "encoder.layer.1.attention.self.key.weight" {
					return x[:64*32], []int{64, 32}
				}
				return x, s
			})
		}, script: loadM, code: 1, line: 1, want: []string{`encoder\.layer\.1\.attention\.self\.key\.weight`, `64`}},
		hostileCase{name: "model/weights-tensor-missing", setup: func(t *testing.T, d string) {
			editTensors(t, filepath.Join(d, "m/model.safetensors"), func(n string, x []float32, s []int) ([]float32, []int) {
				if n == "encoder.layer.3.output.dense.bias" {
					return nil, nil
				}
				return x, s
			})
		}, script: loadM, code: 1, line: 1, want: []string{`encoder\.layer\.3\.output\.dense\.bias`}},
		hostileCase{name: "model/weights-nan", setup: func(t *testing.T, d string) {
			editTensors(t, filepath.Join(d, "m/model.safetensors"), func(n string, x []float32, s []int) ([]float32, []int) {
				if n == "encoder.layer.2.intermediate.dense.weight" {
					x[17] = float32(math.NaN())
				}
				return x, s
			})
		}, script: loadM, code: 1, line: 1, want: []string{`encoder\.layer\.2\.intermediate\.dense\.weight`, `(?i)nan|finite`}},
		hostileCase{name: "model/weights-inf", setup: func(t *testing.T, d string) {
			editTensors(t, filepath.Join(d, "m/model.safetensors"), func(n string, x []float32, s []int) ([]float32, []int) {
				if n == "embeddings.word_embeddings.weight" {
					x[5] = float32(math.Inf(-1))
				}
				return x, s
			})
		}, script: loadM, code: 1, line: 1, want: []string{`embeddings\.word_embeddings\.weight`, `(?i)inf|finite`}},
		hostileCase{name: "model/dir-missing", script: "load model {D}/nope\n", code: 1, line: 1, want: []string{`nope`, `no such`}},
		hostileCase{name: "model/dir-is-file", script: "load model {IN}\n", code: 1, line: 1, want: []string{`in\.jsonl`, `not a (model )?director`}},
		hostileCase{name: "model/dir-symlink-loop", setup: func(t *testing.T, d string) { symlink(t, "loop", filepath.Join(d, "loop")) },
			script: "load model {D}/loop\n", code: 1, line: 1, want: []string{`loop`, `(?i)symbolic links`}},
	)

	// ---- tokenizer files
	add(
		hostileCase{name: "tok/vocab-missing", setup: func(t *testing.T, d string) { os.Remove(filepath.Join(d, "m/vocab.txt")) },
			script: loadM, code: 1, line: 1, want: []string{`vocab\.txt|tokenizer`}},
		hostileCase{name: "tok/vocab-endless", setup: func(t *testing.T, d string) { symlink(t, "/dev/zero", filepath.Join(d, "m/vocab.txt")) },
			script: loadM, code: 1, line: 1, want: []string{`vocab\.txt`}},
		hostileCase{name: "tok/vocab-empty", setup: func(t *testing.T, d string) { write(t, filepath.Join(d, "m/vocab.txt"), "") },
			script: loadM, code: 1, line: 1, want: []string{`vocab\.txt`}},
		hostileCase{name: "tok/vocab-larger-than-config", setup: func(t *testing.T, d string) {
			b, _ := os.ReadFile(filepath.Join(d, "m/vocab.txt"))
			extra := ""
			for i := 0; i < 50; i++ {
				extra += "extra" + strings.Repeat("z", i) + "\n"
			}
			write(t, filepath.Join(d, "m/vocab.txt"), string(b)+extra)
		}, script: loadM, code: 1, line: 1, want: []string{`vocab_size`}},
		hostileCase{name: "tok/vocab-no-unk", setup: func(t *testing.T, d string) {
			b, _ := os.ReadFile(filepath.Join(d, "m/vocab.txt"))
			write(t, filepath.Join(d, "m/vocab.txt"), strings.Replace(string(b), "[UNK]\n", "[UNKNOWN]\n", 1))
		}, script: loadM, code: 1, line: 1, want: []string{`\[UNK\]`}},
		hostileCase{name: "tok/tokenizer-json-broken", setup: func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "m/vocab.txt"))
			write(t, filepath.Join(d, "m/tokenizer.json"), `{"model": {"type": "WordPiece", "vocab": [1,2`)
		}, script: loadM, code: 1, line: 1, want: []string{`tokenizer\.json`}},
		hostileCase{name: "tok/tokenizer-json-endless", setup: func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "m/vocab.txt"))
			symlink(t, "/dev/zero", filepath.Join(d, "m/tokenizer.json"))
		}, script: loadM, code: 1, line: 1, want: []string{`tokenizer\.json`}},
		hostileCase{name: "tok/tokenizer-config-broken", setup: func(t *testing.T, d string) { write(t, filepath.Join(d, "m/tokenizer_config.json"), "[") },
			script: loadM, code: 1, line: 1, want: []string{`tokenizer_config\.json`}},
	)

	// ---- adapters
	add(
		hostileCase{name: "adapter/missing", script: prelude + "load adapter {D}/nope.safetensors\n", code: 1, line: 4, want: []string{`nope\.safetensors`, `no such file`}},
		hostileCase{name: "adapter/text-file", script: prelude + "load adapter {IN}\n", code: 1, line: 4, want: []string{`in\.jsonl`}},
		hostileCase{name: "adapter/truncated", setup: func(t *testing.T, d string) {
			p := filepath.Join(d, "a.safetensors")
			b, _ := os.ReadFile(p)
			os.WriteFile(filepath.Join(d, "cut.safetensors"), b[:len(b)-100], 0o644)
		}, script: prelude + "load adapter {D}/cut.safetensors\n", code: 1, line: 4, want: []string{`cut\.safetensors`}},
		hostileCase{name: "adapter/nan", setup: func(t *testing.T, d string) {
			editTensors(t, filepath.Join(d, "a.safetensors"), func(n string, x []float32, s []int) ([]float32, []int) {
				if n == "prefix.1.key" {
					x[0] = float32(math.NaN())
				}
				return x, s
			})
		}, script: prelude + "load adapter {A}\n", code: 1, line: 4, want: []string{`prefix\.1\.key`, `(?i)nan|finite`}},
		hostileCase{name: "adapter/duplicate-labels", setup: func(t *testing.T, d string) {
			editMeta(t, filepath.Join(d, "a.safetensors"), func(md map[string]string) { md["labels"] = `["negative","negative"]` })
		}, script: loadM + "load adapter {A}\n", code: 1, line: 2, want: []string{`negative`, `(?i)duplicate|twice|more than once`}},
		hostileCase{name: "adapter/labels-differ-from-task", setup: func(t *testing.T, d string) {
			editMeta(t, filepath.Join(d, "a.safetensors"), func(md map[string]string) { md["labels"] = `["bad","good"]` })
		}, script: prelude + "load adapter {A}\n", code: 1, line: 4, want: []string{`labels`}},
		hostileCase{name: "adapter/other-base-model", setup: func(t *testing.T, d string) {
			editTensors(t, filepath.Join(d, "m/model.safetensors"), func(n string, x []float32, s []int) ([]float32, []int) {
				if n == "embeddings.LayerNorm.bias" {
					x[0] += 0.5
				}
				return x, s
			})
		}, script: prelude + "load adapter {A}\n", code: 1, line: 4, want: []string{`(?i)base|trained on`}},
		hostileCase{name: "adapter/wrong-shape", setup: func(t *testing.T, d string) {
			editTensors(t, filepath.Join(d, "a.safetensors"), func(n string, x []float32, s []int) ([]float32, []int) {
				if n == "prefix.0.value" {
					return x[:2*32], []int{2, 32}
				}
				return x, s
			})
		}, script: prelude + "load adapter {A}\n", code: 1, line: 4, want: []string{`prefix\.0\.value`}},
		hostileCase{name: "adapter/unknown-method", setup: func(t *testing.T, d string) {
			editMeta(t, filepath.Join(d, "a.safetensors"), func(md map[string]string) { md["method"] = "lora" })
		}, script: prelude + "load adapter {A}\n", code: 1, line: 4, want: []string{`lora`}},
		hostileCase{name: "adapter/failed-load-keeps-previous", setup: func(t *testing.T, d string) {
			copyFile(filepath.Join(d, "a.safetensors"), filepath.Join(d, "b.safetensors"))
			editMeta(t, filepath.Join(d, "b.safetensors"), func(md map[string]string) { md["labels"] = `["x","y"]` })
		}, script: prelude + "load adapter {A}\n" + "predict {IN} {D}/p1.jsonl\nload adapter {D}/b.safetensors\n",
			code: 1, line: 6, want: []string{`labels`}, writes: []string{"p1.jsonl"}},
		hostileCase{name: "adapter/head-only-pt2-probe", script: prelude + "set method=pt2 prefix_len=0\nstep 2\nsave adapter {D}/probe.safetensors\n" +
			"load adapter {D}/probe.safetensors\npredict {IN} {D}/p.jsonl\n", code: 0,
			want: []string{`saved adapter`, `loaded adapter`, `wrote 5 predictions`}, writes: []string{"probe.safetensors", "p.jsonl"}},
	)

	// ---- task files
	add(
		hostileCase{name: "task/unknown-name", script: loadM + "load task rtee {T}\n", code: 1, line: 2, want: []string{`rtee`, `rte`}},
		hostileCase{name: "task/dir-missing", script: loadM + "load task jsonl {D}/nope\n", code: 1, line: 2, want: []string{`nope`}},
		hostileCase{name: "task/no-dir-says-download", script: loadM + "load task rte\n", code: 1, line: 2, want: []string{`download`}},
		hostileCase{name: "task/bad-json-line", setup: func(t *testing.T, d string) {
			p := filepath.Join(d, "t/train.jsonl")
			b, _ := os.ReadFile(p)
			lines := strings.SplitAfter(string(b), "\n")
			lines[2] = "{\"text\": \"broken\n"
			write(t, p, strings.Join(lines, ""))
		}, script: loadM + "load task jsonl {T}\n", code: 1, line: 2, want: []string{`train\.jsonl:3`}},
		hostileCase{name: "task/line-endless", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "t/train.jsonl"), `{"text": "`+strings.Repeat("a ", 20<<20)+`", "label": "positive"}`+"\n")
		}, script: loadM + "load task jsonl {T}\n", code: 1, line: 2, want: []string{`train\.jsonl:1`}},
		hostileCase{name: "task/train-is-dev-zero", setup: func(t *testing.T, d string) { symlink(t, "/dev/zero", filepath.Join(d, "t/train.jsonl")) },
			script: loadM + "load task jsonl {T}\n", code: 1, line: 2, want: []string{`train\.jsonl`}},
		hostileCase{name: "task/empty-train", setup: func(t *testing.T, d string) { write(t, filepath.Join(d, "t/train.jsonl"), "") },
			script: loadM + "load task jsonl {T}\ntrain 1 steps\n", code: 1, line: -1, want: []string{`train\.jsonl`}},
		hostileCase{name: "task/label-missing", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "t/val.jsonl"), `{"text": "fine"}`+"\n")
		}, script: loadM + "load task jsonl {T}\neval dev\n", code: 1, line: -1, want: []string{`label`}},
		hostileCase{name: "rte/bad-label", setup: func(t *testing.T, d string) {
			os.MkdirAll(filepath.Join(d, "rte"), 0o755)
			write(t, filepath.Join(d, "rte/train.jsonl"), `{"premise": "a", "hypothesis": "b", "label": "entailment", "idx": 0}`+"\n"+
				`{"premise": "a", "hypothesis": "b", "label": "maybe", "idx": 1}`+"\n")
		}, script: loadM + "load task rte {D}/rte\n", code: 1, line: 2, want: []string{`train\.jsonl:2`, `maybe`}},
		hostileCase{name: "conll/one-column", setup: func(t *testing.T, d string) {
			os.MkdirAll(filepath.Join(d, "ner"), 0o755)
			write(t, filepath.Join(d, "ner/train.txt"), "John B-PER\nlives\nhere O\n\n")
			write(t, filepath.Join(d, "ner/dev.txt"), "Mary B-PER\n\n")
		}, script: loadM + "load task conll {D}/ner\n", code: 1, line: 2, want: []string{`train\.txt:2`}},
		hostileCase{name: "conll/bad-tag", setup: func(t *testing.T, d string) {
			os.MkdirAll(filepath.Join(d, "ner"), 0o755)
			write(t, filepath.Join(d, "ner/train.txt"), "John X-PER\n\n")
			write(t, filepath.Join(d, "ner/dev.txt"), "Mary B-PER\n\n")
		}, script: loadM + "load task conll {D}/ner\n", code: 1, line: 2, want: []string{`train\.txt:1`, `X-PER`}},
		hostileCase{name: "conll/line-endless", setup: func(t *testing.T, d string) {
			os.MkdirAll(filepath.Join(d, "ner"), 0o755)
			write(t, filepath.Join(d, "ner/train.txt"), strings.Repeat("x", 20<<20)+" O\n\n")
			write(t, filepath.Join(d, "ner/dev.txt"), "Mary B-PER\n\n")
		}, script: loadM + "load task conll {D}/ner\n", code: 1, line: 2, want: []string{`train\.txt:1`}},
	)

	// ---- predict input
	add(
		hostileCase{name: "predict/onto-input", script: prelude + "predict {IN} {IN}\n", code: 1, line: 4, want: []string{`in\.jsonl.*in\.jsonl`, `input`}},
		hostileCase{name: "predict/onto-input-dotdot", script: prelude + "predict {IN} {DOTDOT}/in.jsonl\n", code: 1, line: 4, want: []string{`input`}},
		hostileCase{name: "predict/onto-input-symlink", setup: func(t *testing.T, d string) { symlink(t, filepath.Join(d, "in.jsonl"), filepath.Join(d, "link.jsonl")) },
			script: prelude + "predict {IN} {D}/link.jsonl\n", code: 1, line: 4, want: []string{`input`}},
		hostileCase{name: "predict/onto-input-hardlink", setup: func(t *testing.T, d string) {
			if err := os.Link(filepath.Join(d, "in.jsonl"), filepath.Join(d, "hard.jsonl")); err != nil {
				t.Skip(err)
			}
		}, script: prelude + "predict {IN} {D}/hard.jsonl\n", code: 1, line: 4, want: []string{`input`}},
		hostileCase{name: "predict/onto-adapter", script: prelude + "load adapter {A}\npredict {IN} {A}\n", code: 1, line: 5, want: []string{`a\.safetensors`, `adapter`}},
		hostileCase{name: "predict/onto-model-config", script: prelude + "predict {IN} {M}/config.json\n", code: 1, line: 4, want: []string{`config\.json`, `model`}},
		hostileCase{name: "predict/onto-read-only", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "ro.jsonl"), "keep me\n")
			os.Chmod(filepath.Join(d, "ro.jsonl"), 0o444)
		}, script: prelude + "predict {IN} {D}/ro.jsonl\n", code: 1, line: 4, want: []string{`ro\.jsonl`, `read-only`}},
		hostileCase{name: "predict/into-missing-dir", script: prelude + "predict {IN} {D}/no/such/out.jsonl\n", code: 1, line: 4, want: []string{`no/such/out\.jsonl`}},
		hostileCase{name: "predict/blank-line-inside", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "in2.jsonl"), `{"text": "good"}`+"\n\n"+`{"text": "bad"}`+"\n")
		}, script: prelude + "predict {D}/in2.jsonl {D}/out.jsonl\n", code: 1, line: 4, want: []string{`in2\.jsonl:2`}, absent: []string{"out.jsonl"}},
		hostileCase{name: "predict/empty-text", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "in2.jsonl"), `{"text": ""}`+"\n"+`{"text": "fine"}`+"\n")
		}, script: prelude + "predict {D}/in2.jsonl {D}/out.jsonl\n", code: 0, want: []string{`wrote 2 predictions`}, writes: []string{"out.jsonl"}},
		hostileCase{name: "predict/bom", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "in2.jsonl"), "\ufeff"+`{"text": "fine"}`+"\n")
		}, script: prelude + "predict {D}/in2.jsonl {D}/out.jsonl\n", code: 0, want: []string{`wrote 1 prediction`}, writes: []string{"out.jsonl"}},
		hostileCase{name: "predict/bad-json", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "in2.jsonl"), `{"text": "fine"}`+"\n"+`{"text": }`+"\n")
		}, script: prelude + "predict {D}/in2.jsonl {D}/out.jsonl\n", code: 1, line: 4, want: []string{`in2\.jsonl:2`}, absent: []string{"out.jsonl"}},
		hostileCase{name: "predict/wrong-field", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "in2.jsonl"), `{"txt": "fine"}`+"\n")
		}, script: prelude + "predict {D}/in2.jsonl {D}/out.jsonl\n", code: 1, line: 4, want: []string{`in2\.jsonl:1`, `text`}, absent: []string{"out.jsonl"}},
		hostileCase{name: "predict/input-missing", script: prelude + "predict {D}/none.jsonl {D}/out.jsonl\n", code: 1, line: 4, want: []string{`none\.jsonl`}, absent: []string{"out.jsonl"}},
		hostileCase{name: "predict/input-is-dir", script: prelude + "predict {D} {D}/out.jsonl\n", code: 1, line: 4, want: []string{`director`}, absent: []string{"out.jsonl"}},
		hostileCase{name: "predict/input-empty", setup: func(t *testing.T, d string) { write(t, filepath.Join(d, "in2.jsonl"), "") },
			script: prelude + "predict {D}/in2.jsonl {D}/out.jsonl\n", code: 1, line: 4, want: []string{`in2\.jsonl`}, absent: []string{"out.jsonl"}},
		hostileCase{name: "predict/line-endless", setup: func(t *testing.T, d string) { symlink(t, "/dev/zero", filepath.Join(d, "in2.jsonl")) },
			script: prelude + "predict {D}/in2.jsonl {D}/out.jsonl\n", code: 1, line: 4, want: []string{`in2\.jsonl`}, absent: []string{"out.jsonl"}},
	)

	// ---- settings
	add(
		hostileCase{name: "set/lr-nan", script: "set lr=nan\n", code: 1, line: 1, want: []string{`lr`}},
		hostileCase{name: "set/lr-inf", script: "set lr=inf\n", code: 1, line: 1, want: []string{`lr`}},
		hostileCase{name: "set/lr-negative", script: "set lr=-1\n", code: 1, line: 1, want: []string{`lr`}},
		hostileCase{name: "set/warmup-negative", script: "set warmup=-3\n", code: 1, line: 1, want: []string{`warmup`}},
		hostileCase{name: "set/weight-decay-negative", script: "set weight_decay=-0.1\n", code: 1, line: 1, want: []string{`weight_decay`}},
		hostileCase{name: "set/dropout-one", script: "set dropout=1\n", code: 1, line: 1, want: []string{`dropout`}},
		hostileCase{name: "set/unknown-key", script: "set lrr=1\n", code: 1, line: 1, want: []string{`lrr`}},
		hostileCase{name: "set/bad-method", script: "set method=lora\n", code: 1, line: 1, want: []string{`lora`}},
		hostileCase{name: "set/max-len-beyond-positions", script: loadM + "set max_len=100000\n", code: 1, line: 2, want: []string{`max_len`, `128`}},
		hostileCase{name: "set/prefix-len-wrong-count", script: loadM + "set prefix_len=1,2\n", code: 1, line: 2, want: []string{`prefix_len`}},
		hostileCase{name: "set/prefix-len-huge", script: prelude + "set prefix_len=100000\nstep\n", code: 1, line: -1, want: []string{`prefix_len`}},
		hostileCase{name: "set/prompt-len-huge", script: prelude + "set method=pt prompt_len=100000\nstep\n", code: 1, line: -1, want: []string{`prompt_len`}},
		hostileCase{name: "set/batch-size-huge-trains", script: prelude + "set batch_size=100000000\nstep\n", code: 0, want: []string{`loss`}},
		hostileCase{name: "set/eval-batch-size-huge-evaluates", script: prelude + "set eval_batch_size=100000000\neval dev\n", code: 0, want: []string{`accuracy`}},
		hostileCase{name: "set/backbone-dropout", script: prelude + "set backbone_dropout=0\nstep\nshow config\n", code: 0, want: []string{`backbone_dropout`}},
		hostileCase{name: "set/after-adapter-keeps-it", script: prelude + "load adapter {A}\npredict {IN} {D}/p1.jsonl\nset max_len=64 seed=7 prefix_dropout=0.2\n" +
			"predict {IN} {D}/p2.jsonl\nshow status\n", code: 0, want: []string{`a\.safetensors`}, writes: []string{"p1.jsonl", "p2.jsonl"}},
		hostileCase{name: "set/diverged-run-stops", script: prelude + "set lr=1e30 max_grad_norm=-1 warmup=0\ntrain 20 steps\n", code: 1, line: 5, want: []string{`(?i)nan|inf|finite`}},
	)

	// ---- saves and exports
	add(
		hostileCase{name: "save/onto-model-weights", script: prelude + "step\nsave adapter {M}/model.safetensors\n", code: 1, line: 5, want: []string{`model\.safetensors`, `model`}},
		hostileCase{name: "save/onto-model-dir", script: prelude + "step\nsave adapter {M}\n", code: 1, line: 5, want: []string{`director`}},
		hostileCase{name: "save/onto-task-data", script: prelude + "step\nsave adapter {T}/train.jsonl\n", code: 1, line: 5, want: []string{`train\.jsonl`, `task`}},
		hostileCase{name: "save/onto-predict-output-ok", script: prelude + "step\nsave adapter {D}/new.safetensors\nsave adapter {D}/new.safetensors\n", code: 0,
			want: []string{`saved adapter`}, writes: []string{"new.safetensors"}},
		hostileCase{name: "save/onto-read-only", setup: func(t *testing.T, d string) {
			write(t, filepath.Join(d, "ro.safetensors"), "keep")
			os.Chmod(filepath.Join(d, "ro.safetensors"), 0o444)
		}, script: prelude + "step\nsave adapter {D}/ro.safetensors\n", code: 1, line: 5, want: []string{`ro\.safetensors`, `read-only`}},
		hostileCase{name: "save/into-missing-dir", script: prelude + "step\nsave adapter {D}/no/such/a.safetensors\n", code: 1, line: 5, want: []string{`no/such/a\.safetensors`}},
		hostileCase{name: "save/ft-onto-model-dir", script: prelude + "set method=ft\nstep\nsave adapter {M}\n", code: 1, line: 6, want: []string{`model`}},
		hostileCase{name: "gates/json-onto-adapter", script: prelude + "load adapter {A}\ngates dev --json {A}\n", code: 1, line: 5, want: []string{`a\.safetensors`, `adapter`}},
		hostileCase{name: "gates/csv-onto-config", script: prelude + "step\ngates --csv {M}/config.json\n", code: 1, line: 5, want: []string{`config\.json`}},
		hostileCase{name: "plot/onto-task-data-via-link", setup: func(t *testing.T, d string) { symlink(t, "train.jsonl", filepath.Join(d, "t/plot.svg")) },
			script: prelude + "step\nplot loss {T}/new.svg\nplot loss {T}/plot.svg\n", code: 1, line: 6,
			want: []string{`train\.jsonl`}, writes: []string{"t/new.svg"}},
		hostileCase{name: "plot/bad-extension", script: prelude + "step\nplot loss {D}/loss.jpg\n", code: 1, line: 5, want: []string{`\.svg`}, absent: []string{"loss.jpg"}},
	)

	// ---- shell scripts
	add(
		hostileCase{name: "script/bom", script: "\ufeffecho hello\n", code: 0, want: []string{`hello`}},
		hostileCase{name: "script/crlf", script: "echo one\r\necho two\r\n", code: 0, want: []string{`one\ntwo`}},
		hostileCase{name: "script/unknown-command", script: "echo x\ntarin\n", code: 1, line: 2, want: []string{`tarin`, `train`}},
		hostileCase{name: "script/garbage-bytes", script: "\x00\x01\xff\xfe load\n", code: 1, line: 1},
		hostileCase{name: "script/train-bare-number", script: prelude + "train 3\n", code: 1, line: 4, want: []string{`steps`}},
		hostileCase{name: "script/train-before-load", script: "train\n", code: 1, line: 1, want: []string{`model`}},
		hostileCase{name: "script/predict-before-load", script: "predict {IN} {D}/out.jsonl\n", code: 1, line: 1, want: []string{`model`}, absent: []string{"out.jsonl"}},
		hostileCase{name: "script/long-line", script: "echo " + strings.Repeat("y", 1<<20) + "\n", code: 0},
		hostileCase{name: "script/unterminated-quote", script: "echo \"open\n", code: 1, line: 1, want: []string{`quote`}},
	)
	return cs
}
