package engine

// SetEvaluateHook makes f run before each evaluation of a stored resource
// policy, until the returned restore is called.
func SetEvaluateHook(f func()) (restore func()) {
	testHookEvaluate = f
	return func() { testHookEvaluate = nil }
}
