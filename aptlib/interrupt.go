package aptlib

import gocontext "context"

// Predict reads IN and writes OUT with every example's prediction; see
// PredictContext, which it calls with a context that is never cancelled.
func (w *Workbench) Predict(in, out string) (int, error) {
	return w.PredictContext(gocontext.Background(), in, out)
}
