package aptlib

// The backbone families the workbench loads: each package registers its
// backbone.Family (by config.json's model_type) in an init function, so a
// family is supported by its blank import here. docs/families.md describes
// what each one loads.
import (
	_ "github.com/aptbench/apt/aptlib/bert"      // model_type "bert"
	_ "github.com/aptbench/apt/aptlib/deberta"   // model_type "deberta" (v1)
	_ "github.com/aptbench/apt/aptlib/debertav2" // model_type "deberta-v2" (v2, v3)
	_ "github.com/aptbench/apt/aptlib/roberta"   // model_type "roberta"
)
