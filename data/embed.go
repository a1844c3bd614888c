// Package data embeds the demo that ships with the workbench: a small sentiment
// task invented for this project and a small BERT-architecture model with random
// (not pretrained) weights, both written by `go run ./data/gen`. They let every
// command run offline; see README.md.
package data

import "embed"

// Demo holds demo/model (config.json, model.safetensors, vocab.txt,
// tokenizer_config.json) and demo/task (train.jsonl, val.jsonl, test.jsonl).
//
//go:embed demo/model demo/task
var Demo embed.FS
