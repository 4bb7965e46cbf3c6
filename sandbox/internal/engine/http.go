package engine

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// Mount adds the engine's sandbox-only endpoints to mux:
//
//	GET  /_slab/metrics                          SNS counters, CloudWatch names ({"AWS/SNS": [...]})
//	GET  /_slab/deliveries?since=N               the delivery log after record N
//	POST /_slab/events/rules/<name|arn>/trigger  fire a rule now (?account=&region=)
func (e *Engine) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /_slab/metrics", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"AWS/SNS": e.SNSMetrics()})
	})
	mux.HandleFunc("GET /_slab/deliveries", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		writeJSON(w, http.StatusOK, map[string]any{"mark": e.DeliveryMark(), "deliveries": e.Deliveries(since)})
	})
	mux.HandleFunc("POST /_slab/events/rules/", e.serveTrigger)
}

func (e *Engine) serveTrigger(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/_slab/events/rules/"), "/trigger")
	if !ok || name == "" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "use POST /_slab/events/rules/<rule name or ARN>/trigger"})
		return
	}
	q := r.URL.Query()
	scope := core.Scope{Account: q.Get("account"), Region: q.Get("region")}
	if scope.Account == "" {
		scope.Account = core.DefaultAccount
	}
	if scope.Region == "" {
		scope.Region = e.c.DefaultRegion
	}
	res, err := e.TriggerRule(r.Context(), scope, name)
	switch {
	case errors.Is(err, ErrRuleNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, ErrRuleDisabled):
		writeJSON(w, http.StatusConflict, map[string]string{"rule": res.Rule, "error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
