// Package aptlib is the library behind the APT workbench: a frozen pretrained
// encoder (BERT, RoBERTa, DeBERTa v1 and v2/v3 behind package backbone; see
// docs/families.md), parameter-efficient methods on top of it (prompt and
// prefix tuning, APT with its token and layer gates, full fine-tuning as the
// reference), the tasks they are trained on, and a step-wise trainer. The shell
// (repl, cmd/apt-repl) and the notebooks are thin layers over this package.
//
// # Where to start
//
// A Workbench is one session; every method returns an error rather than
// panicking, and the shell's commands map onto these calls one to one:
//
//	w, err := aptlib.New("")                     // "" = $GOMLX_BACKEND, else the automatic choice
//	err = w.LoadModel("bert-base-uncased")       // a model directory, a Hub id, or "demo"
//	err = w.LoadTask("rte", "~/superglue/RTE")   // a task and its directory ("demo" needs none)
//	err = w.Set("method", "apt")                 // any setting of docs/shell.md, checked
//	res, err := w.Train(ctx, aptlib.TrainOptions{})
//	gates, err := w.Gates("dev")                 // lambda per layer, alpha per prefix slot
//	n, err := w.Predict("in.jsonl", "out.jsonl") // one JSON line per input line
//
// Then Eval scores a split, Step trains one batch, SaveAdapter and LoadAdapter
// write and read adapters, and SaveCheckpoint and LoadCheckpoint save a run so
// that it continues exactly. The package Example runs these calls on the demo.
//
// The repository's docs/ folder is the contract these calls keep:
// docs/methods.md (the math), docs/adapters.md (adapter, model-directory and
// checkpoint files), docs/tasks.md (task files, metrics, prediction output),
// docs/shell.md (commands and settings), docs/backends.md (backends) and
// docs/safety.md (what is never overwritten, bounded reads, NaN handling).
//
// # Sub-packages
//
//	adapter      adapter files and fine-tuned model directories: save, validate, load
//	backbone     the contract of an encoder family: hooks, outputs, configs, tokenizers, the registry
//	backend      choosing and creating the GoMLX backend (go, simplego, xla:cpu, xla:cuda)
//	bert         the BERT family: config, the encoder as GoMLX graph code, checkpoint loading
//	bpe          the byte-level BPE tokenizer of RoBERTa and DeBERTa v1, as HuggingFace tokenizers
//	deberta      the DeBERTa v1 family: disentangled attention with in_proj, its weights and config
//	debertav2    the DeBERTa-v2/v3 family: disentangled attention, its weights and config
//	hub          fetching a model directory from the HuggingFace Hub into its cache
//	method       FT, PT, PT-2, APT and its ablations; PT-2* and PT-2+ prefix lengths
//	metrics      accuracy, macro-F1, MultiRC and entity-level NER scores, mean ± std
//	model        a backbone, a method and a head as one graph; batches and the loss
//	repro        the paper's comparison over methods, tasks and seeds (cmd/apt-repro)
//	roberta      the RoBERTa family: positions after the padding id, its weights and config
//	safetensors  reading and writing .safetensors files (strict, atomic writes)
//	tasks        SuperGLUE and CoNLL data with P-Tuning v2's input encodings
//	trainer      AdamW, schedule, clipping, Fit, prediction and training checkpoints
//	unigram      the SentencePiece Unigram tokenizer of DeBERTa-v2/v3 (spm.model or tokenizer.json)
//	wordpiece    the BERT WordPiece tokenizer, as HuggingFace BertTokenizer
package aptlib
