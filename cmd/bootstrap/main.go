// Command bootstrap is the Lambda bootstrap of the lab's Go functions: the
// three handlers and the Runtime API loop, nothing else (no tutor, no
// sandbox, no SDK service the functions do not call), so that a function's
// zip stays small and starts fast. `slab package` puts it in the zip as
// `bootstrap` for provided.al2023; _HANDLER picks the function.
package main

import (
	"os"

	"github.com/slab-lab/slab/lambdas"
)

func main() {
	os.Exit(lambdas.RunBootstrap())
}
