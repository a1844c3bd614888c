// Package aptlib is the library behind the APT workbench: a frozen BERT-family
// encoder (package bert), parameter-efficient methods on top of it (prefix
// tuning, APT with its token and layer gates), the tasks they are trained on,
// and a step-wise trainer. The shell (repl, cmd/apt-repl) and the notebooks are
// thin layers over this package and its sub-packages.
//
// Sub-packages:
//
//	safetensors  reading and writing .safetensors files (strict, atomic writes)
//	wordpiece    the BERT WordPiece tokenizer, as HuggingFace BertTokenizer
//	bert         BERT config, the encoder as GoMLX graph code, checkpoint loading
//	backend      choosing the GoMLX backend (SPEC section 6)
//	hub          fetching a model directory from the HuggingFace Hub into a cache
//	tasks        SuperGLUE and CoNLL data, with P-Tuning v2's input encodings
//	metrics      accuracy, F1, MultiRC and entity-level NER scores
package aptlib
