// Package demomodel is the recipe of the demo-sized model: a BERT-architecture
// encoder of 4 layers, hidden size 64, 4 heads, feed-forward size 256 and 128
// positions with RANDOM (not pretrained) weights. data/gen writes the embedded
// demo model (data/demo/model) with it, and notebooks/nbutil the same model
// over a real vocabulary (DemoModelWithVocab). The output is deterministic:
// `go run ./data/gen` must reproduce the committed demo files byte for byte.
package demomodel

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/bert"
	"github.com/aptbench/apt/aptlib/safetensors"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Seed is the random seed of the backbone's initialisation (and, as the PCG's
// first word, of the rescaling).
const Seed = 20230709

// Options are what differs between the demo model and its real-vocabulary
// variant.
type Options struct {
	// Comment is config.json's "_comment"; Note the "note" metadata of
	// model.safetensors. Both say the weights are random.
	Comment, Note string
	// Positive and Negative, when either is set, are the words whose embeddings
	// get a shared sentiment direction (+u and -u); see plantSentiment.
	Positive, Negative []string
}

// Config is the demo model's configuration for a vocabulary of vocabSize pieces.
func Config(vocabSize int) *bert.Config {
	cfg := bert.DefaultConfig()
	cfg.VocabSize, cfg.HiddenDim, cfg.NumHiddenLayers, cfg.NumAttentionHeads = vocabSize, 64, 4, 4
	cfg.IntermediateSize, cfg.MaxPositionEmbeddings = 256, 128
	return cfg
}

// Write writes the model into the existing directory dir: config.json,
// vocab.txt (the bytes vocab, one WordPiece piece a line, as given),
// tokenizer_config.json (lower-casing) and model.safetensors. It returns the
// configuration.
func Write(dir string, vocab []byte, o Options) (*bert.Config, error) {
	words := strings.Split(strings.TrimSuffix(string(vocab), "\n"), "\n")
	n := bytes.Count(vocab, []byte("\n"))
	if len(vocab) > 0 && vocab[len(vocab)-1] != '\n' {
		n++
	}
	cfg := Config(n)
	cfgJSON, err := cfg.JSON(map[string]any{"_comment": o.Comment})
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"vocab.txt", vocab}, {"config.json", cfgJSON}, {"tokenizer_config.json", []byte(`{"do_lower_case": true}` + "\n")}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return nil, err
		}
	}
	ctx := context.New()
	bert.InitRandom(ctx, cfg, Seed, false)
	// BERT's N(0, 0.02) initialisation leaves an untrained network whose layers
	// barely mix tokens: every [CLS] output would look alike and no method could
	// learn through it. The demo rescales the encoder's and pooler's matrices
	// (but the query and key projections, so that attention stays broad) to
	// N(0, 1/fan_in) so that information flows, as it does in a trained model.
	rng := rand.New(rand.NewPCG(Seed, 1))
	var list []safetensors.Tensor
	for _, spec := range bert.Tensors(cfg) {
		data := tensors.MustCopyFlatData[float32](bert.Variable(ctx, spec.Name).MustValue())
		isQK := strings.Contains(spec.Name, "attention.self.query") || strings.Contains(spec.Name, "attention.self.key")
		if len(spec.Shape) == 2 && !strings.HasPrefix(spec.Name, "embeddings.") && !isQK {
			std := 1 / math.Sqrt(float64(spec.Shape[1]))
			for i := range data {
				data[i] = float32(rng.NormFloat64() * std)
			}
		}
		if spec.Name == "embeddings.word_embeddings.weight" && (o.Positive != nil || o.Negative != nil) {
			plantSentiment(data, words, cfg.HiddenDim, rng, o.Positive, o.Negative)
		}
		list = append(list, safetensors.Tensor{Name: spec.Name, Shape: spec.Shape, Data: data})
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), list, map[string]string{
		"format": "pt", "note": o.Note}); err != nil {
		return nil, err
	}
	return cfg, nil
}

// plantSentiment gives the positive words' embeddings a shared direction u and
// the negative words' -u (on top of their random values), standing in for what
// pretraining would have taught: without it a frozen random backbone gives the
// parameter-efficient methods too little to work with for a two-minute demo.
func plantSentiment(emb []float32, vocab []string, d int, rng *rand.Rand, positive, negative []string) {
	u := make([]float64, d)
	for i := range u {
		u[i] = rng.NormFloat64() * 0.03
	}
	for id, w := range vocab {
		sign := 0.0
		if slices.Contains(positive, w) {
			sign = 1
		} else if slices.Contains(negative, w) {
			sign = -1
		}
		for i := range d {
			emb[id*d+i] += float32(sign * u[i])
		}
	}
}
