package checks

import (
	"fmt"
	"strings"

	"github.com/slab-lab/slab/lab"
)

// Troubleshooting sections the hints link (ids of content/lessons/
// troubleshooting.md; a test keeps them in step).
const (
	tsPermissionErrors  = "lambda-permission-errors"
	tsNotificationFires = "notification-not-firing"
	tsSNSSQS            = "sns-sqs-not-working"
	tsSchedule          = "schedule-not-firing"
	tsRolePropagation   = "role-propagation"
	tsNotReady          = "not-ready-yet"
	tsBucketRegion      = "bucket-region"
	tsLostVariables     = "lost-shell-variables"
	tsRuntime           = "runtime-deprecated"
	tsSDKv2             = "aws-sdk-v2-import"
	tsSDKv3             = "aws-sdk-v3-missing"
	tsFunctionError     = "function-error"
	tsTopicEnv          = "sns-topic-env"
	tsS3Permission      = "s3-invoke-permission"
	tsEventsPermission  = "events-invoke-permission"
	tsDuplicateRows     = "duplicate-rows"
	tsQueuePolicy       = "queue-policy"
	tsRawDelivery       = "raw-delivery"
	tsPoison            = "poison-message"
	tsVisibility        = "visibility-timeout"
	tsESMPermission     = "esm-permission"
	tsScheduleRunning   = "schedule-running"
	tsLogEventsNotFound = "log-events-not-found"
	tsVersionedBucket   = "versioned-bucket"
	tsTableDeleting     = "table-still-deleting"
	tsQueueDeleted      = "queue-deleted-recently"
)

// HintIDs lists every troubleshooting id a hint may link.
var HintIDs = []string{
	tsPermissionErrors, tsNotificationFires, tsSNSSQS, tsSchedule, tsRolePropagation, tsNotReady,
	tsBucketRegion, tsLostVariables, tsRuntime, tsSDKv2, tsSDKv3, tsFunctionError, tsTopicEnv, tsS3Permission,
	tsEventsPermission, tsDuplicateRows, tsQueuePolicy, tsRawDelivery, tsPoison, tsVisibility,
	tsESMPermission, tsScheduleRunning, tsLogEventsNotFound, tsVersionedBucket, tsTableDeleting, tsQueueDeleted,
}

// see links a troubleshooting section.
func see(id string) string { return "see `slab show troubleshooting` → " + id }

// redo points at a step's lesson and at `slab do`.
func redo(step string) string {
	return fmt.Sprintf("run the commands of `slab show %s` (or `slab do %s`)", step, step)
}

// hint joins hint parts into one sentence-like line.
func hint(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

func pass(summary string, ev ...string) Result {
	return Result{Status: Pass, Summary: summary, Evidence: ev}
}

func fail(summary, h string, ev ...string) Result {
	return Result{Status: Fail, Summary: summary, Hint: h, Evidence: ev}
}

func warn(summary, h string, ev ...string) Result {
	return Result{Status: Warn, Summary: summary, Hint: h, Evidence: ev}
}

// skip says which prerequisite is missing.
func skip(missing, becauseOf string) Result {
	return Result{Status: Skip, Summary: "skipped: " + missing + fmt.Sprintf(" (see %s)", becauseOf), needs: becauseOf}
}

// deferToLaterStep marks a skip that waits for a resource of a later step
// than the check's own (iam-role.s3-read needs step 3's bucket): it is
// "verified in step N", and its own step is judged on its own resources.
func deferToLaterStep(r Result) Result {
	if r.Status != Skip || r.needs == "" {
		return r
	}
	needStep, _, _ := strings.Cut(r.needs, ".")
	own, later := lab.StepNumber(r.Step), lab.StepNumber(needStep)
	if own == 0 || later <= own {
		return r
	}
	r.VerifiedIn = later
	r.Summary = fmt.Sprintf("verified in step %d (%s): %s", later, needStep, strings.TrimPrefix(r.Summary, "skipped: "))
	return r
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none found"
	}
	return "found " + s
}
