package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/aptbench/apt/aptlib/backbone"
)

func TestPlan(t *testing.T) {
	rows, err := Plan(nil, []string{"small", "base"}, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rows {
		count[r.Group+"/"+r.Size]++
		if r.Steps != 2 {
			t.Fatalf("row %s has %d steps", r.Describe(), r.Steps)
		}
	}
	want := map[string]int{"train/small": 3, "train/base": 3, "infer/small": 2, "infer/base": 2, "prefix/small": 4, "seq/small": 3, "batch/small": 3}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%s: %d rows, want %d (all: %v)", k, count[k], v, count)
		}
	}
}

// TestRunTinyRow runs a tiny row of each mode end to end on the pure-Go backend.
func TestRunTinyRow(t *testing.T) {
	for _, mode := range []string{"train", "infer"} {
		r := Row{Mode: mode, Size: "tiny", Method: "apt", Layers: 1, Hidden: 32, Heads: 2, Inter: 64, Batch: 2, Seq: 8, Prefix: 2, Steps: 1}
		res := Run(r, "go")
		if res.Err != "" {
			t.Fatalf("%s: %s", mode, res.Err)
		}
		if res.ExamplesPerS <= 0 || res.Graphs != 1 || res.PeakRSSMiB <= 0 {
			t.Fatalf("%s: implausible result %+v", mode, res)
		}
		if mode == "train" && res.Trainable != 2*2*32+32*2+2+1+32*2+2 {
			t.Errorf("trainable %d", res.Trainable)
		}
	}
}

// TestPlanFamilies: one block of rows per family, BERT rows without a family in
// their JSON (as before families), and an unregistered family refused.
func TestPlanFamilies(t *testing.T) {
	rows, err := Plan([]string{"bert", "deberta-v2"}, []string{"small"}, map[string]bool{"infer": true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0].ModelType() != "bert" || rows[3].ModelType() != "deberta-v2" {
		t.Fatalf("rows %+v", rows)
	}
	js, _ := json.Marshal(rows[0])
	if strings.Contains(string(js), "family") || strings.HasPrefix(rows[0].Describe(), "bert") {
		t.Errorf("a BERT row changed: %s, %q", js, rows[0].Describe())
	}
	if js, _ := json.Marshal(rows[3]); !strings.Contains(string(js), `"family":"deberta-v2"`) || !strings.HasPrefix(rows[3].Describe(), "deberta-v2 ") {
		t.Errorf("a DeBERTa-v2 row does not say its family: %s, %q", js, rows[3].Describe())
	}
	if _, err := Plan([]string{"gpt2"}, []string{"small"}, nil, 1); err == nil || !strings.Contains(err.Error(), "roberta") {
		t.Errorf("unknown family: %v, want an error listing the supported ones", err)
	}
}

// TestRunEveryFamily trains and infers a tiny row of every registered family
// (a new family is covered by registering it) on the pure-Go backend: the
// model is of that family, the loss and the logits are finite, and a family
// whose base checkpoint has no pooler trains the created one.
func TestRunEveryFamily(t *testing.T) {
	for _, mt := range backbone.ModelTypes() {
		t.Run(mt, func(t *testing.T) {
			r := Row{Family: mt, Size: "tiny", Method: "pt2", Layers: 2, Hidden: 32, Heads: 4, Inter: 64, Batch: 2, Seq: 8, Prefix: 2, Steps: 1}
			cfg, _, err := r.Backbone()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ModelType() != mt || cfg.NumLayers() != 2 || cfg.HiddenSize() != 32 || cfg.NumHeads() != 4 || cfg.MaxLen() < 8 {
				t.Fatalf("config %s L%d d%d n%d max %d", cfg.ModelType(), cfg.NumLayers(), cfg.HiddenSize(), cfg.NumHeads(), cfg.MaxLen())
			}
			for _, mode := range []string{"train", "infer"} {
				r.Mode = mode
				res := Run(r, "go")
				if res.Err != "" {
					t.Fatalf("%s: %s", mode, res.Err)
				}
				if res.ExamplesPerS <= 0 || res.Graphs != 1 {
					t.Fatalf("%s: implausible result %+v", mode, res)
				}
				check := res.Loss
				if mode == "infer" {
					check = res.MeanAbsLogit
				}
				if !(check > 0) || math.IsInf(check, 0) {
					t.Errorf("%s: loss %v, mean |logit| %v: want finite and positive", mode, res.Loss, res.MeanAbsLogit)
				}
				if mode != "train" {
					continue
				}
				want := 2*2*2*32 + 32*2 + 2 // prefixes, head
				if r.CreatesPooler() {
					want += 32*32 + 32
				}
				if res.Trainable != want {
					t.Errorf("train: %d trainable parameters, want %d (created pooler: %v)", res.Trainable, want, r.CreatesPooler())
				}
			}
		})
	}
}

// TestBackboneBaseShapes: a row's model has its family's base-checkpoint keys
// at the row's sizes (deberta-v3-base's relative attention for deberta-v2,
// roberta-base's positions), and a sequence longer than the position table
// raises max_position_embeddings.
func TestBackboneBaseShapes(t *testing.T) {
	want := map[string]map[string]any{
		"bert":    {"vocab_size": 30522.0, "type_vocab_size": 2.0, "max_position_embeddings": 512.0},
		"roberta": {"vocab_size": 50265.0, "pad_token_id": 1.0, "type_vocab_size": 1.0, "max_position_embeddings": 514.0},
		"deberta": {"vocab_size": 50265.0, "relative_attention": true, "position_biased_input": false,
			"max_relative_positions": -1.0, "type_vocab_size": 0.0},
		"deberta-v2": {"vocab_size": 128100.0, "relative_attention": true, "position_buckets": 256.0,
			"share_att_key": true, "norm_rel_ebd": "layer_norm", "position_biased_input": false, "type_vocab_size": 0.0},
	}
	for mt, keys := range want {
		r := Row{Family: mt, Layers: 12, Hidden: 768, Heads: 12, Inter: 3072, Seq: 128}
		js, err := r.ConfigJSON()
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(js, &got); err != nil {
			t.Fatal(err)
		}
		keys["num_hidden_layers"], keys["hidden_size"], keys["intermediate_size"] = 12.0, 768.0, 3072.0
		for k, v := range keys {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", mt, k, got[k], v)
			}
		}
		if r.CreatesPooler() != (mt != "bert") {
			t.Errorf("%s: created pooler %v (only bert-base-uncased has its pooler)", mt, r.CreatesPooler())
		}
		r.Seq = 1024
		cfg, _, err := r.Backbone()
		if err != nil || cfg.MaxLen() < 1024 {
			t.Errorf("%s at T=1024: %v, %v", mt, cfg, err)
		}
	}
	if !strings.Contains(fmt.Sprint(TorchArgs(Row{Family: "deberta-v2", Layers: 1, Hidden: 8, Heads: 2, Inter: 8, Seq: 4}, 1)), "--created-pooler") {
		t.Error("TorchArgs of a deberta-v2 row lack --created-pooler")
	}
}
