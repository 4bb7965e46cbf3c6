// Command engine-bootstrap is the provided.al2023 bootstrap of the event
// engine's integration test: the lab's three functions (by _HANDLER, as
// slab packages them) plus "always-fail", whose every invocation fails.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/slab-lab/slab/lambdas"
)

func main() {
	if os.Getenv("_HANDLER") == "always-fail" {
		lambda.Start(func(ctx context.Context, ev json.RawMessage) (any, error) {
			fmt.Printf("failing on purpose, event %s\n", ev)
			return nil, errors.New("handler failed on purpose")
		})
		return
	}
	os.Exit(lambdas.RunBootstrap())
}
