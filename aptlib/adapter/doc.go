// Package adapter saves and loads what a parameter-efficient run produces, in
// the formats of docs/adapters.md.
//
// An adapter file is one .safetensors file of F32 tensors (prefixes, gates,
// layer scales or prompt, and the task head) plus a __metadata__ map of
// strings that says how to rebuild the model around a frozen backbone:
//
//	err := adapter.Save("rte.apt.safetensors", ctx, spec, adapter.Meta{Task: "rte", ...})
//	...
//	a, err := adapter.Load("rte.apt.safetensors")         // validated, no context needed
//	cfg, _, err := backbone.LoadDir(ctx2, baseDir, false)  // the frozen backbone
//	spec2, err := a.Apply(ctx2, cfg)                       // variables into ctx2
//
// Tensor names are the method's context variable paths with dots
// (method.AdapterName): "prefix.{i}.key" and "prefix.{i}.value" [p_i, d],
// "gate.{i}.weight" [d, p_i] and "gate.{i}.bias" [p_i], "layer_scale.{i}" [],
// "prompt.embedding" [p, d], "head.weight" [d, n] and "head.bias" [n]; layer
// numbers are 0-based and a layer without prefix has no entries. Layout lists
// exactly the tensors a method configuration has.
//
// Full fine-tuning (method ft) changes the backbone, so it is saved as a whole
// HuggingFace model directory instead (SaveModelDir, LoadModelDir): backbone.LoadDir
// reads it back like any checkpoint of its family, and the head rides along in
// model.safetensors as "head.weight" / "head.bias".
//
// Every write is atomic: a failed or interrupted save never leaves a partial
// file (or directory) under the final name.
package adapter
