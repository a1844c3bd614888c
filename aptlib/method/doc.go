// Package method holds the parameter-efficient methods of the workbench: full
// fine-tuning (ft), prompt tuning (pt: embeddings in front of the input),
// P-Tuning v2 (pt2: per-layer key and value prefixes in front of each layer's
// attention) and Adaptive Prefix Tuning (apt: PT-2's prefixes weighed by the
// token gate alpha_i and the layer scale lambda_i), with APT's two ablations
// (apt_no_token_gate, apt_no_layer_gate). The math is in docs/methods.md and
// in Zhang et al., "Towards Adaptive Prefix Tuning for Parameter-Efficient
// Language Model Fine-tuning" (ACL 2023), eq. 3-5.
//
// # Methods are a registry
//
// Each method is a value of the Method interface in its own file: ft.go,
// pt.go, pt2.go, apt.go (APT and its ablations, which share PT-2's prefix code
// and add gates). Its Info says its name, aliases, one-line description and
// traits (whether Config.PrefixLens or PromptLen apply, which gates it has,
// whether it trains the backbone); Tensors lists its tensors with shapes and
// initial values; Hooks wires it into the backbone (backbone.Hooks); FromShapes
// reads the lengths an adapter file's metadata left open from its tensors.
// The registry table (registry.go) lists them in the order of the paper's
// tables, and everything else walks it: Kinds, ParseKind, Create,
// NumTrainable, Hooks, the adapter file's layout and parser (package adapter),
// `show model` and the shell's completion of `set method=`.
//
// # Adding a method
//
//  1. Write one file with its Kind constant (the string is the adapter file's
//     "method" metadata) and a type that implements Method: Info (with Names, the
//     adapter tensor names it can have, "{i}" for a layer number; their first
//     part is a context scope that Create clears), Tensors (one source for
//     Create, NumTrainable and the adapter layout: keep the order fixed, Create
//     draws the Normal initialisations in that order), Hooks and FromShapes.
//  2. Add one line to registry.
//
// The shared method suite (suite_test.go: learns, leaves the backbone
// untouched, adapter round trip, gradients, padding, determinism) and the
// parameter-count tests then run over the new method too; the adapter
// package saves and loads it without change.
package method
