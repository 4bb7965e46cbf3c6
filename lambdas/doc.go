// Package lambdas holds the lab's three Lambda functions: s3-processor,
// event-processor and queue-processor.
//
// Each exists twice with the same behaviour, item shapes and ids: in Go on
// aws-lambda-go and the AWS SDK for Go v2 (s3processor.go, eventprocessor.go,
// queueprocessor.go), and in Node.js 22 on the AWS SDK for JavaScript v3
// (node/*/index.mjs, see node.go). Both follow lab-corrections.md: SDK v3,
// idempotent ids with conditional puts, pointers for large objects and
// partial batch responses.
//
// The Go functions' bootstrap is cmd/bootstrap, a main of their own that
// calls RunBootstrap, which serves the function named by _HANDLER. slab's
// own executable does the same when AWS_LAMBDA_RUNTIME_API is set: that is
// how the sandbox runs slab-made packages with the host's build of the same
// handlers. Zip packages either version for `aws lambda create-function`
// (provided.al2023 or nodejs22.x).
package lambdas
